import { FormatRegistry } from '@sinclair/typebox';

/**
 * String formats TypeBox checks (it knows none by itself). Registered once,
 * on import, by every module that validates with TypeBox.
 */
const FORMATS: Record<string, (value: string) => boolean> = {
  uri: (value) => URL.canParse(value),
  // Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by mail.
  email: (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value),
  uuid: (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
  'date-time': (value) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) &&
    !Number.isNaN(Date.parse(value)),
};

for (const [name, check] of Object.entries(FORMATS)) {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
}
