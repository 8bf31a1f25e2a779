import { authModule } from '@nova/auth';
import { contentModule } from '@nova/content';
import { NOVA_CONTRACTS } from '@nova/contracts';
import { feedModule } from '@nova/feed';
import { startModules } from '@nova/kernel/testing';
import { socialModule } from '@nova/social';
import { defineFeedWalk } from './suites/feed-walk.js';

// The all-in-one shape (PGlite, the embedded log, the in-process cache) with
// the services the feed meets — auth, social, content, feed — booted in this
// process by the kernel's boot (the code `nova start` runs) and driven over
// HTTP. (`npm start` also runs notifications, whose consumer currently
// deadlocks PGlite after a follow; see the notes.)
defineFeedWalk(
  { name: 'all-in-one on PGlite: auth, social, content, feed', env: () => ({}) },
  {
    async start(env) {
      const nova = await startModules({
        modules: [authModule, socialModule, contentModule, feedModule],
        contracts: NOVA_CONTRACTS,
        database: 'pglite',
        env,
      });
      return { urlFor: (p) => `${nova.baseUrl}${p}`, stop: () => nova.close(), cleanup: () => undefined };
    },
  },
);
