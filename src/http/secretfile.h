/*-------------------------------------------------------------------------
 *
 * secretfile.h
 *	  Reading the files that hold credentials and keys, refusing ones
 *	  that others can read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_SECRETFILE_H
#define PHA_HTTP_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>

extern int	pha_read_file(const char *path, bool secret, size_t max_len,
						  char **out, size_t *out_len, char *err, size_t errlen);

#endif							/* PHA_HTTP_SECRETFILE_H */
