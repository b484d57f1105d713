/** A balance that briefly highlights when a live update changes it. */
import { useEffect, useRef, useState } from "react";
import { formatMoney } from "../lib/money.ts";

export function LiveBalance(props: { balance: string; asset: string; className?: string }) {
  const previous = useRef(props.balance);
  const [flash, setFlash] = useState<"up" | "down" | undefined>();
  useEffect(() => {
    if (previous.current === props.balance) return;
    const up = BigInt(props.balance) > BigInt(previous.current);
    previous.current = props.balance;
    setFlash(up ? "up" : "down");
    const timer = setTimeout(() => setFlash(undefined), 1600);
    return () => clearTimeout(timer);
  }, [props.balance]);
  return (
    <span
      className={`amount ${props.className ?? ""}${flash ? ` flash-${flash}` : ""}`}
      data-balance={props.balance}
    >
      {formatMoney(props.balance, props.asset)}
    </span>
  );
}
