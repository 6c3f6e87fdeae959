/*
 * version.h - the project's version, the one definition every program prints
 * for --version (and the Makefile and debian/changelog are checked against,
 * tests/integration/version.sh). srtp-bridge/gdoisrtp.h's GDOISRTP_VERSION
 * is the installed header's copy of it.
 */
#ifndef GDOI_VERSION_H
#define GDOI_VERSION_H

#define GDOI_VERSION "0.1.0"

#endif
