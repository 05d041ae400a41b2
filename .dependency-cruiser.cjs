/**
 * The import rule of src/: each folder may import the folders below it, never one beside or above
 * it, so no folder cycle can form. Layers from the bottom:
 *   base → model (contracts) → integrity, age, docker → archive → mongo, redis, s3 (adapters)
 *   → core (use cases) → components → app → tui → cli
 */
const LAYERS = [
  ['base'],
  ['model'],
  ['integrity', 'age', 'docker'],
  ['archive'],
  ['mongo', 'redis', 's3'],
  ['core'],
  ['components'],
  ['app'],
  ['tui'],
  ['cli'],
];

const rank = new Map(LAYERS.flatMap((folders, index) => folders.map((folder) => [folder, index])));

const forbidden = [...rank].map(([folder, level]) => {
  const allowed = [...rank].filter(([, other]) => other < level).map(([name]) => name);
  return {
    name: `layer-${folder}`,
    comment: `src/${folder}/ may import only ${allowed.length ? allowed.map((name) => `src/${name}/`).join(', ') : 'itself'} (the import rule in docs/architecture.md)`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: [`^src/${folder}/`, ...allowed.map((name) => `^src/${name}/`)] },
  };
});

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'no-unknown-folder',
      comment: 'every folder of src/ has a place in the layers of .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${[...rank.keys()].join('|')})/` },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'no module imports itself through others',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
