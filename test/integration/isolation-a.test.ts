// Runs in parallel with isolation-b.test.ts: see test/support/isolation-suite.ts.
import { defineIsolationSuite } from '../support/isolation-suite.js';

defineIsolationSuite('isolation-a');
