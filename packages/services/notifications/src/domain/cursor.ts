import { ValidationError } from '@nova/kernel';

/** Keyset position in a recipient's list: (updatedAt, id), newest first. */
export interface ListPosition {
  updatedAt: string;
  id: string;
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.updatedAt}|${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [updatedAt, id, rest] = text.split('|');
  if (rest !== undefined || !updatedAt || !id || Number.isNaN(Date.parse(updatedAt))) throw invalidCursor();
  if (!/^[0-9a-f-]{36}$/.test(id)) throw invalidCursor();
  return { updatedAt, id };
}

function invalidCursor(): ValidationError {
  return new ValidationError(
    'The cursor is not one this list returned.',
    [{ field: '/cursor', message: 'unknown cursor' }],
    'invalid_cursor',
  );
}
