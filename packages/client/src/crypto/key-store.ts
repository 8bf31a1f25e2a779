/**
 * Where a device keeps its private keys and sessions. Every record is
 * JSON-safe (base64 strings and numbers), so a store can be a browser's
 * IndexedDB, a file, or memory; the SDK only talks to this interface.
 */
import type { SerializedRatchetState } from './double-ratchet.js';

export interface KeyPairRecord {
  publicKey: string;
  secretKey: string;
}

export interface PreKeyRecord extends KeyPairRecord {
  id: number;
  /** ISO time it was made: signed pre-keys rotate, the old ones are kept a while for messages in flight. */
  createdAt: string;
}

/** One Double Ratchet session with one peer device, and how it was set up. */
export interface SessionRecord {
  state: SerializedRatchetState;
  /** The peer device's Ed25519 identity key (base64). */
  remoteIdentityKey: string;
  /** The X3DH ephemeral key that started the session (base64): identifies it in pre-key messages. */
  baseKey: string;
  /**
   * Set on the initiator's side until the peer answers: every message
   * carries the X3DH values, so the peer can set the session up from
   * whichever message reaches it first.
   */
  pendingPreKey: { signedPreKeyId: number; oneTimePreKeyId: number | null } | null;
}

export type PreKeyKind = 'signed' | 'one-time';

export interface KeyStore {
  loadIdentity(): Promise<KeyPairRecord | undefined>;
  saveIdentity(identity: KeyPairRecord): Promise<void>;
  loadPreKey(kind: PreKeyKind, id: number): Promise<PreKeyRecord | undefined>;
  listPreKeys(kind: PreKeyKind): Promise<PreKeyRecord[]>;
  savePreKeys(kind: PreKeyKind, records: PreKeyRecord[]): Promise<void>;
  removePreKey(kind: PreKeyKind, id: number): Promise<void>;
  /** Sessions with one peer device, the active one first; empty when none. */
  loadSessions(address: string): Promise<SessionRecord[]>;
  saveSessions(address: string, sessions: SessionRecord[]): Promise<void>;
}

/**
 * The in-memory store (Node tests, short-lived clients). Records are kept
 * as JSON text, so what works here provably survives serialisation;
 * `snapshot()` / `fromSnapshot()` move the whole store as one string.
 */
export class MemoryKeyStore implements KeyStore {
  private readonly entries: Map<string, string>;

  constructor(entries: Iterable<[string, string]> = []) {
    this.entries = new Map(entries);
  }

  static fromSnapshot(snapshot: string): MemoryKeyStore {
    return new MemoryKeyStore(Object.entries(JSON.parse(snapshot) as Record<string, string>));
  }

  snapshot(): string {
    return JSON.stringify(Object.fromEntries(this.entries));
  }

  private get<T>(key: string): T | undefined {
    const text = this.entries.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  private set(key: string, value: unknown): void {
    this.entries.set(key, JSON.stringify(value));
  }

  async loadIdentity() {
    return this.get<KeyPairRecord>('identity');
  }
  async saveIdentity(identity: KeyPairRecord) {
    this.set('identity', identity);
  }
  async loadPreKey(kind: PreKeyKind, id: number) {
    return this.get<PreKeyRecord>(`pre-key/${kind}/${id}`);
  }
  async listPreKeys(kind: PreKeyKind) {
    const prefix = `pre-key/${kind}/`;
    return [...this.entries.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => this.get<PreKeyRecord>(key) as PreKeyRecord);
  }
  async savePreKeys(kind: PreKeyKind, records: PreKeyRecord[]) {
    for (const record of records) this.set(`pre-key/${kind}/${record.id}`, record);
  }
  async removePreKey(kind: PreKeyKind, id: number) {
    this.entries.delete(`pre-key/${kind}/${id}`);
  }
  async loadSessions(address: string) {
    return this.get<SessionRecord[]>(`sessions/${address}`) ?? [];
  }
  async saveSessions(address: string, sessions: SessionRecord[]) {
    this.set(`sessions/${address}`, sessions);
  }
}
