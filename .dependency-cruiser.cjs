/**
 * Module boundaries (ARCHITECTURE.md §2, §5): services meet only in
 * `contracts`; the kernel depends on no service; contracts depend on no
 * service. `npm run lint` fails when a rule is broken.
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
      comment: 'The kernel knows no service, gateway, app or contract.',
      severity: 'error',
      from: { path: '^packages/kernel/' },
      to: { path: '^(packages/(services|gateway|contracts)|apps)/' },
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
