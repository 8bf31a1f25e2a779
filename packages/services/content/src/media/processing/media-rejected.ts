/**
 * The upload cannot become a media item (damaged, too large once decoded, no
 * video stream, too long…): the item ends `failed` with this reason. Not an
 * infrastructure error: retrying would fail the same way.
 */
export class MediaRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MediaRejectedError';
  }
}
