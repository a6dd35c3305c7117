#!/usr/bin/env node
import '../dist/workers/cli.js';
