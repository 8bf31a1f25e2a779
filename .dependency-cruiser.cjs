/**
 * Module boundaries (ARCHITECTURE.md §2, §5): services meet only in
 * `contracts`; the kernel depends on no service and no engine adapter;
 * contracts depend on no service; engine adapters (packages/adapters/*)
 * implement kernel interfaces and are wired only by the app.
 * `npm run lint` fails when a rule is broken.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-service-imports-another-service',
      comment: 'A service never imports another service; use @nova/contracts (events, sync APIs).',
      severity: 'error',
      from: { path: '^packages/services/([^/]+)/' },
      to: { path: '^packages/services/([^/]+)/', pathNot: '^packages/services/$1/' },
    },
    {
      name: 'kernel-is-the-foundation',
      comment: 'The kernel knows no service, gateway, app, contract or engine adapter.',
      severity: 'error',
      from: { path: '^packages/kernel/' },
      to: { path: '^(packages/(services|gateway|contracts|adapters)|apps)/' },
    },
    {
      name: 'adapters-are-wired-by-the-app',
      comment: 'Services, contracts and the gateway see the kernel interfaces only; the app picks the adapters.',
      severity: 'error',
      from: { path: '^packages/(services|contracts|gateway)/' },
      to: { path: '^packages/adapters/' },
    },
    {
      name: 'an-adapter-stands-alone',
      comment: 'An adapter depends on the kernel and its engine client only: no service, contract, app or other adapter.',
      severity: 'error',
      from: { path: '^packages/adapters/([^/]+)/' },
      to: {
        path: '^(packages/(services|gateway|contracts|adapters/[^/]+)|apps)/',
        pathNot: '^packages/adapters/$1/',
      },
    },
    {
      name: 'contracts-know-no-service',
      severity: 'error',
      from: { path: '^packages/contracts/' },
      to: { path: '^(packages/(services|gateway)|apps)/' },
    },
    {
      name: 'services-do-not-reach-into-the-app',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'routes-call-commands-and-queries',
      comment: 'A route calls a command or a query, never a repository (docs/service-template.md).',
      severity: 'error',
      from: { path: '^packages/services/([^/]+)/src/api/' },
      to: { path: '^packages/services/$1/src/store/' },
    },
    {
      name: 'the-client-sdk-stands-alone',
      comment: 'The SDK (packages/client) talks to Nova over HTTP and the socket only: no server package, no app.',
      severity: 'error',
      from: { path: '^packages/client/' },
      to: { path: '^(packages/(kernel|services|contracts|gateway|adapters)|apps)/' },
    },
    {
      name: 'the-client-sdk-runs-in-browsers',
      comment: 'No Node built-in in the SDK source: it runs in browsers too (Web Crypto, fetch, WebSocket).',
      severity: 'error',
      from: { path: '^packages/client/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|data|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
