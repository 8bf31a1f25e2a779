import { Type } from '@sinclair/typebox';
import { EMAIL_MAX } from '../domain/email.js';
import { PASSWORD_RAW_MAX } from '../domain/password-rules.js';

/**
 * Request and response shapes of the auth routes. Every string is bounded;
 * content rules (username charset, password strength…) live in the domain
 * so their messages are the same wherever they apply.
 */
const Email = Type.String({ minLength: 1, maxLength: EMAIL_MAX, description: 'email address' });
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_RAW_MAX, description: '10–128 characters' });
const Token = Type.String({ minLength: 1, maxLength: 512 });
const Code = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'a 6-digit TOTP code or a backup code (xxxxx-xxxxx)',
});
const body = <T extends Parameters<typeof Type.Object>[0]>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

export const RegisterBody = body({
  email: Email,
  username: Type.String({ minLength: 1, maxLength: 64, description: '3–30 characters of A-Z, a-z, 0-9, _' }),
  password: Password,
});
export const LoginBody = body({
  login: Type.String({ minLength: 1, maxLength: EMAIL_MAX, description: 'email or username' }),
  password: Password,
});
export const TwoFactorLoginBody = body({
  challengeId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }),
  code: Code,
});
export const RefreshBody = body({ refreshToken: Token });
export const TokenBody = body({ token: Token });
export const CodeBody = body({ code: Code });
export const ChangePasswordBody = body({ currentPassword: Password, newPassword: Password });
export const ForgotPasswordBody = body({ email: Email });
export const ResetPasswordBody = body({ token: Token, newPassword: Password });
export const DeleteAccountBody = body({
  password: Password,
  code: Type.Optional({ ...Code, description: 'required when 2FA is on: a TOTP code or a backup code' }),
});

export const AccountSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  username: Type.String(),
  emailVerified: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
export const UserResponse = Type.Object({ user: AccountSchema });

export const TokenPairSchema = Type.Object({
  accessToken: Type.String({ description: 'EdDSA JWT; send as Authorization: Bearer' }),
  refreshToken: Type.String({ description: 'opaque; single use, rotated by /refresh' }),
  expiresIn: Type.Integer({ description: 'access token lifetime in seconds' }),
  tokenType: Type.Literal('Bearer'),
});
export const TwoFactorRequiredSchema = Type.Object({
  twoFactorRequired: Type.Literal(true),
  challengeId: Type.String({ description: 'pass to /auth/login/2fa with a code within 5 minutes' }),
});

export const SessionSchema = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'the session of the token making this request' }),
});
export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const TwoFactorSetupResponse = Type.Object({
  secret: Type.String({ description: 'base32 TOTP secret' }),
  otpauthUrl: Type.String({ description: 'otpauth:// URI for a QR code' }),
});
export const BackupCodesResponse = Type.Object({
  backupCodes: Type.Array(Type.String(), {
    minItems: 10,
    maxItems: 10,
    description: 'each usable once; shown only now',
  }),
});

export const JwksResponse = Type.Object({
  keys: Type.Array(
    Type.Object(
      {
        kty: Type.String(),
        crv: Type.String(),
        x: Type.String(),
        kid: Type.String(),
        alg: Type.String(),
        use: Type.String(),
      },
      { additionalProperties: false },
    ),
  ),
});

export const Empty = Type.Null({ description: 'no content' });
export const Accepted = Type.Object({ status: Type.Literal('accepted') });
