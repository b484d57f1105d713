"""Schemathesis hooks for Ledgerflow (loaded through SCHEMATHESIS_HOOKS by scripts/fuzz/run.ts).

The OpenAPI document marks IBANs with `format: iban`: the pattern gives their shape, the format
says the ISO 13616 check digits must be right too, which no regular expression can say. This
teaches the generator that format, so requests the document allows are requests the server accepts.
"""

from hypothesis import strategies as st

import schemathesis


def _check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(char, 36)) for char in rearranged))
    return f"{98 - number % 97:02d}"


def _spaced(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


@st.composite
def _ibans(draw) -> str:
    # Mostly the platform's own format (NLkk OPEN + 10 digits), the IBANs accounts really get,
    # so some requests name existing accounts; sometimes any country and BBAN.
    if draw(st.booleans()):
        country, bban = "NL", "OPEN" + draw(st.from_regex(r"\A0[0-9]{9}\Z"))
    else:
        country = draw(st.from_regex(r"\A[A-Z]{2}\Z"))
        bban = draw(st.from_regex(r"\A[A-Z0-9]{11,30}\Z"))
    iban = country + _check_digits(country, bban) + bban
    style = draw(st.sampled_from(["plain", "spaced", "lower"]))
    if style == "spaced":
        return _spaced(iban)
    return iban.lower() if style == "lower" else iban


schemathesis.openapi.format("iban", _ibans())


def _plain_integer_amounts(value):
    # JSON Schema counts 2686.0 as an integer; Ledgerflow reads a money number by its literal text
    # and takes only a plain integer (issue 11.5: 12.000 must not become 12). The document says so
    # in words; here a generated integral float amount is sent as the plain integer it stands for.
    if isinstance(value, dict):
        return {
            key: int(item) if key == "amount" and isinstance(item, float) and item.is_integer() else _plain_integer_amounts(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_plain_integer_amounts(item) for item in value]
    return value


@schemathesis.hook
def map_case(context, case):
    if isinstance(case.body, (dict, list)):
        case.body = _plain_integer_amounts(case.body)
    return case
