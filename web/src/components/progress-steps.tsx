import { Icon } from "./icons.tsx";

export interface ProgressStep {
  readonly label: string;
  readonly state: "done" | "current" | "failed" | "todo";
}

/** An ordered list of steps (a transfer's or a payment's progress), the current one announced. */
export function ProgressSteps(props: { label: string; steps: readonly ProgressStep[] }) {
  return (
    <ol className="timeline" aria-label={props.label}>
      {props.steps.map((step) => (
        <li
          key={step.label}
          className={`timeline-step ${step.state}`}
          aria-current={step.state === "current" ? "step" : undefined}
        >
          <span className="timeline-dot" aria-hidden="true">
            {step.state === "done" && <Icon name="check" size={14} />}
            {step.state === "failed" && <Icon name="x" size={14} />}
          </span>
          {step.label}
        </li>
      ))}
    </ol>
  );
}
