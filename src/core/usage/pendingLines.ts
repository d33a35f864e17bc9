/**
 * Request-history lines waiting for the next flush of the usage files, per UTC day, written
 * straight into blocks of UTF-8 bytes. Each line's string dies young and its bytes wait off the JS
 * heap. Holding the records themselves until the flush kept every request of the last few seconds
 * alive long enough for the collector to promote it, and serialized them all at once.
 */
const BLOCK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

interface Day {
  blocks: Buffer[];
  /** Bytes used in the last block. */
  used: number;
}

export class PendingLines {
  private days = new Map<string, Day>();

  get empty(): boolean {
    return this.days.size === 0;
  }

  /** One line (ending in a newline) for `day`'s file. */
  add(day: string, line: string): void {
    let pending = this.days.get(day);
    if (!pending) this.days.set(day, (pending = { blocks: [], used: 0 }));
    const size = Buffer.byteLength(line);
    let block = pending.blocks.at(-1);
    if (!block || pending.used + size > block.length) {
      block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, size));
      pending.blocks.push(block);
      pending.used = 0;
    }
    pending.used += block.write(line, pending.used, 'utf8');
  }

  /** Every day's lines as one buffer each; nothing is left pending. */
  take(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [day, { blocks, used }] of this.days) {
      const last = blocks.length - 1;
      out.set(day, Buffer.concat(blocks.map((b, i) => (i === last ? b.subarray(0, used) : b))));
    }
    this.days = new Map();
    return out;
  }

  /**
   * Lines taken but not written go back in front of any added since, keeping at most `maxBytes`
   * a day: past it the oldest whole lines are dropped.
   */
  restore(taken: Map<string, Buffer>, maxBytes: number): void {
    const later = this.take();
    for (const day of new Set([...taken.keys(), ...later.keys()])) {
      let bytes = Buffer.concat([taken.get(day) ?? Buffer.alloc(0), later.get(day) ?? Buffer.alloc(0)]);
      if (bytes.length > maxBytes) bytes = bytes.subarray(bytes.indexOf(NEWLINE, bytes.length - maxBytes - 1) + 1);
      if (bytes.length > 0) this.days.set(day, { blocks: [bytes], used: bytes.length });
    }
  }
}

/** The whole lines at the start of `bytes` that fit in `room` bytes. */
export function wholeLinesWithin(bytes: Buffer, room: number): Buffer {
  if (bytes.length <= room) return bytes;
  return room <= 0 ? bytes.subarray(0, 0) : bytes.subarray(0, bytes.lastIndexOf(NEWLINE, room - 1) + 1);
}
