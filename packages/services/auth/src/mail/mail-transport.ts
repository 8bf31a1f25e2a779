import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TransientError } from '@nova/kernel';
import nodemailer from 'nodemailer';
import type { AuthConfig } from '../config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  /** Throws TransientError on failure: the mailer's runtime retries. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** SMTP when `SMTP_URL` is set; otherwise each mail becomes an .eml file under `<dataDir>/mail/`. */
export function createMailTransport(config: Pick<AuthConfig, 'mail' | 'dataDir'>): MailTransport {
  return config.mail.smtpUrl
    ? createSmtpTransport(config.mail.smtpUrl, config.mail.from)
    : createFileTransport(path.join(config.dataDir, 'mail'), config.mail.from);
}

function createSmtpTransport(url: string, from: string): MailTransport {
  const transport = nodemailer.createTransport(url);
  return {
    kind: 'smtp',
    async send(message) {
      try {
        await transport.sendMail({ from, ...message });
      } catch (error) {
        throw new TransientError('sending mail over SMTP failed', { cause: error });
      }
    },
    close: () => transport.close(),
  };
}

export function createFileTransport(dir: string, from: string): MailTransport {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(message) {
      try {
        const info = await transport.sendMail({ from, ...message });
        await mkdir(dir, { recursive: true });
        // Sortable by time, unique by id; the rename makes a half-written file invisible to readers.
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
        const temp = path.join(dir, `.${name}.tmp`);
        await writeFile(temp, info.message);
        await rename(temp, path.join(dir, name));
      } catch (error) {
        throw new TransientError('writing mail to the mail directory failed', { cause: error });
      }
    },
    close: () => transport.close(),
  };
}
