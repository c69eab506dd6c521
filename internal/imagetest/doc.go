// Package imagetest builds the container images that helios-scaffold init
// writes Dockerfiles for, from those files unchanged, and runs each image
// as its platform would. Its tests are the whole package:
//
//   - a Cloud Run service with the default base, run as its USER with PORT
//     set: the contract's success, failure, 400 and 405 answers, and exit
//     0 on SIGTERM;
//   - a Cloud Run service with --deps helios over a Helios project with an
//     npm lockfile, a Cloud Run job with --deps helios and no lockfile, and
//     a Lambda function with --deps helios under the Runtime Interface
//     Emulator (non-root, read-only root, writable /tmp): each renders a
//     real Helios chunk that the image's own Helios CLI emitted, into
//     fake-gcs-server or moto_server, and ffprobe checks the video.
//
// Every --deps helios build pins its browser as the Dockerfile records it
// and ends with the smoke render, which must pass with that version; the
// images must stay within 1.1 GB. snapshot.debian.org cannot be reached
// here: the builds read the base image's mirror (DEBIAN_SNAPSHOT=off), and
// the Cloud Run service's through a loopback stand-in of the snapshot
// archive, which must serve the recorded snapshot's indexes and browser.
// Where the pinned version has left the mirror, the tests say so in
// capitals and build the mirror's version, to prove the rest.
// The Cloud Run job test then fails a build whose smoke composition
// hangs, within its timeout, and runs a task whose chunk prints a line and
// hangs, which HELIOS_CHUNK_IDLE_TIMEOUT stops (exit 124).
//
// The builder is podman (with runc), the base images are made locally
// under the names the Dockerfiles use (debian:13.1-slim from mmdebstrap,
// the Go image from it plus this machine's Go), and builds never pull.
// Base images and layers are kept between runs on one machine, keyed by
// what they are made from.
//
// Without podman, mmdebstrap or ffprobe the tests skip and say so;
// HELIOS_REQUIRE_IMAGES=1, which .ci/run sets after installing them, turns
// the skip into a failure. TestLambdaDefaultArm64 builds the image of init aws
// with its defaults (arm64) in every run, on a stand-in for the Lambda
// base, checks that its bootstrap is for aarch64, and runs it under qemu
// (qemu-user-static registered with binfmt_misc with the F flag, as
// .ci/run does). HELIOS_IMAGES_ARM64=1 adds an arm64 build of the Lambda
// --deps helios image under qemu, for its build time.
package imagetest
