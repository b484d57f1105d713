/** community.events records ↔ the published event types (the flat record of topics.ts). */
import type { CommunityEvent } from "./events.ts";

export function eventToAvro(event: CommunityEvent): Record<string, unknown> {
  const base = {
    officerId: "",
    citizenId: "",
    kind: "",
    rewarded: false,
    pointsEach: "0",
    cell: "",
    userId: "",
    trophy: "",
  };
  return { ...base, ...event, atMs: BigInt(event.atMs) };
}

export function eventFromAvro(value: Record<string, unknown>): CommunityEvent | undefined {
  const atMs = Number(value.atMs);
  const text = (name: string) => String(value[name] ?? "");
  if (value.type === "ConnectionEstablished")
    return {
      type: "ConnectionEstablished",
      connectionId: text("connectionId"),
      officerId: text("officerId"),
      citizenId: text("citizenId"),
      kind: value.kind === "virtual" ? "virtual" : "in_person",
      rewarded: value.rewarded === true,
      pointsEach: text("pointsEach"),
      cell: text("cell"),
      atMs,
    };
  if (value.type === "TrophyAwarded")
    return {
      type: "TrophyAwarded",
      userId: text("userId"),
      trophy: text("trophy"),
      connectionId: text("connectionId"),
      atMs,
    };
  // A type added later: consumers written before it skip it.
  return undefined;
}
