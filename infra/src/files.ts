import { resolve } from 'node:path'

/** The repository root (this file is infra/src/files.ts, or infra/dist/files.js once built). */
export const REPO_ROOT = resolve(__dirname, '..', '..')
