/**
 * One live status line on stderr: rewritten in place on a terminal, a line per update otherwise
 * (so logs and CI output stay readable).
 */
export interface ProgressLine {
  update(text: string): void;
  /** Ends the live line so later output starts on a fresh line. */
  done(): void;
}

export function createProgressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  const live = stream.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (live) {
        const width = (stream.columns ?? 120) - 1;
        stream.write(`\r${text.slice(0, width).padEnd(width)}`);
        shown = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (live && shown) stream.write("\n");
      shown = false;
    },
  };
}
