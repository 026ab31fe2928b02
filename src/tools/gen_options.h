/*-------------------------------------------------------------------------
 *
 * gen_options.h
 *	  promscale-ha-gen: the command line, parsed and checked into Options.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GEN_OPTIONS_H
#define GEN_OPTIONS_H

#include "gen.h"

/*
 * Turn argv into o, with the defaults filled in and every option checked
 * against the others.  --help prints the usage and exits 0; any mistake
 * prints why to stderr and exits 2.  gen_node_setup() must have run (the
 * usage and --profile node need the series count of an instance).
 */
extern void gen_parse_args(int argc, char **argv, Options *o);

#endif							/* GEN_OPTIONS_H */
