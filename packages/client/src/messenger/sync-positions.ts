/**
 * The highest sequence a device has processed per conversation: where it
 * resumes (`GET …/messages?after=`) after being offline. Persist it next to
 * the key store; a position that lags only re-reads messages the device
 * then recognises as already processed.
 */
export interface SyncPositions {
  load(conversationId: string): Promise<number>;
  save(conversationId: string, seq: number): Promise<void>;
}

export class MemorySyncPositions implements SyncPositions {
  private readonly positions = new Map<string, number>();

  async load(conversationId: string): Promise<number> {
    return this.positions.get(conversationId) ?? 0;
  }

  async save(conversationId: string, seq: number): Promise<void> {
    this.positions.set(conversationId, Math.max(seq, this.positions.get(conversationId) ?? 0));
  }
}
