/**
 * Progress of the demo: a bar redrawn in place on a terminal, plain lines every tenth otherwise
 * (CI logs, pipes). Notes (a worker killed, restarted) are printed above the bar.
 */
export interface Tally {
  readonly done: number;
  readonly completed: number;
  readonly compensated: number;
  readonly stuck: number;
}

export class Progress {
  private readonly tty: boolean;
  private shown = false;
  private lastDraw = 0;
  private lastTenth = 0;
  private tally: Tally = { done: 0, completed: 0, compensated: 0, stuck: 0 };
  private readonly began = performance.now();

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.tty = out.isTTY === true;
  }

  /** Records the latest tally; redraws the bar (at most every 50 ms) or prints a line when a tenth is passed. */
  update(tally: Tally): void {
    this.tally = tally;
    if (this.tty) {
      const now = performance.now();
      if (now - this.lastDraw >= 50 || tally.done === this.total) this.draw();
      return;
    }
    const tenth = Math.floor((tally.done * 10) / this.total);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.write(`${this.line()}\n`);
    }
  }

  /** Prints a line above the bar. */
  note(message: string): void {
    if (this.tty && this.shown) this.write('\r\x1b[2K');
    this.write(`  ${message}\n`);
    if (this.tty && this.shown) this.draw();
  }

  /** Leaves the bar as it is and moves below it. */
  end(): void {
    if (this.tty && this.shown) {
      this.draw();
      this.write('\n');
      this.shown = false;
    }
  }

  private write(text: string): void {
    if (this.out.writable) this.out.write(text);
  }

  private draw(): void {
    this.lastDraw = performance.now();
    const width = 30;
    const filled = Math.round((this.tally.done / this.total) * width);
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${this.line()}`;
    // Never wider than the terminal: a wrapped line could not be redrawn in place.
    this.write(`\r\x1b[2K${bar.slice(0, Math.max(10, (this.out.columns || 80) - 1))}`);
    this.shown = true;
  }

  private line(): string {
    const { done, completed, compensated, stuck } = this.tally;
    const seconds = (performance.now() - this.began) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const percent = Math.floor((done * 100) / this.total);
    return `${done}/${this.total} ${percent}%  ${completed} completed, ${compensated} compensated, ${stuck} stuck, ${rate}/s`;
  }
}
