/** Where a {@link ChunkWriter} sends its chunks: a `SnapshotSink` fits. */
export interface ChunkTarget {
  write(chunk: Uint8Array): Promise<void>;
}

/**
 * Cuts a byte stream into chunks of exactly `size` bytes (the last one shorter), so every chunk
 * fits under a transport's packet limit however large one record is. Each chunk is a fresh buffer,
 * because a target may keep what it is given.
 */
export class ChunkWriter {
  private buffer: Uint8Array;
  private used = 0;

  constructor(
    private readonly target: ChunkTarget,
    private readonly size: number,
  ) {
    this.buffer = new Uint8Array(size);
  }

  /** Appends `bytes`, which the writer copies; sends every chunk that fills up. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(this.size - this.used, bytes.length - offset);
      this.buffer.set(bytes.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
      if (this.used === this.size) await this.send();
    }
  }

  /** Sends what is buffered, if anything. */
  async flush(): Promise<void> {
    if (this.used > 0) await this.send();
  }

  private async send(): Promise<void> {
    // Stryker disable next-line ConditionalExpression: a full buffer is handed over without a copy; a copy would hold the same bytes
    const chunk = this.used === this.size ? this.buffer : this.buffer.slice(0, this.used);
    this.buffer = new Uint8Array(this.size);
    this.used = 0;
    await this.target.write(chunk);
  }
}
