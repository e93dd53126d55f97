// Starts s3rver (npm, installed by bench/run into bench/.s3rver) for the
// benchmark: listens on 127.0.0.1, a free port, objects in argv[2] on disk,
// bucket argv[3] created at start. Prints "PORT <n>" once listening and exits
// when stdin closes (the driver died or is done) or on SIGTERM/SIGINT.
// Usage: node s3rver_main.js DATA_DIR BUCKET
'use strict';

const S3rver = require('s3rver');

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  process.stderr.write('usage: s3rver_main.js DATA_DIR BUCKET\n');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});

server.run().then(
  addr => process.stdout.write(`PORT ${addr.port}\n`),
  err => {
    process.stderr.write(`s3rver: ${err}\n`);
    process.exit(1);
  },
);

const quit = () => process.exit(0);
process.stdin.on('end', quit);
process.stdin.on('close', quit);
process.stdin.resume();
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
