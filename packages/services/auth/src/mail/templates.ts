import type { MailMessage } from './mail-transport.js';

/** Mail bodies are plain text: nothing to escape, nothing for a client to execute. */
export function verificationMail(to: string, username: string, link: string): MailMessage {
  return {
    to,
    subject: 'Confirm your email address for Nova',
    text: [
      `Hello ${username},`,
      '',
      'Please confirm your email address by opening this link (valid for 24 hours):',
      '',
      link,
      '',
      'If you did not create a Nova account, ignore this mail.',
    ].join('\n'),
  };
}

export function passwordResetMail(to: string, username: string, link: string): MailMessage {
  return {
    to,
    subject: 'Reset your Nova password',
    text: [
      `Hello ${username},`,
      '',
      'Someone asked to reset the password of your Nova account. To choose a new one, open this link (valid for 1 hour):',
      '',
      link,
      '',
      'If it was not you, ignore this mail: your password stays the same.',
    ].join('\n'),
  };
}
