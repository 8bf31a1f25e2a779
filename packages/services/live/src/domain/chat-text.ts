import { ChannelRefusal } from '@nova/kernel';

/**
 * A chat message as sent: trimmed, not empty, at most `maxLength`
 * characters (code points, so an emoji is one), control characters other
 * than newlines refused.
 */
export function checkChatText(text: string, maxLength: number): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new ChannelRefusal('invalid_data', 'A chat message needs some text.');
  if ([...trimmed].length > maxLength)
    throw new ChannelRefusal('invalid_data', `A chat message has at most ${maxLength} characters.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(trimmed))
    throw new ChannelRefusal('invalid_data', 'A chat message may not contain control characters.');
  return trimmed;
}
