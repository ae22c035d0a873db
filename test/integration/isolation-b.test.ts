// Runs in parallel with isolation-a.test.ts: see test/support/isolation-suite.ts.
import { defineIsolationSuite } from '../support/isolation-suite.js';

defineIsolationSuite('isolation-b');
