// Validates build/electron-builder.config.mjs with electron-builder's own validation (the JSON
// schema it checks every build against, and its deprecation checks), offline. Packaging itself
// needs an Electron binary, which this check does not download or run.
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js'
import { DebugLogger } from 'builder-util'
import config from './electron-builder.config.mjs'

await validateConfiguration(config, new DebugLogger(false))
process.stdout.write('electron-builder configuration is valid\n')
