/*-------------------------------------------------------------------------
 *
 * secretfile.h
 *	  Reading the files that hold credentials and keys, refusing ones
 *	  that others can read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_SECRETFILE_H
#define FE_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Read a whole file of at most max_len bytes into *out (malloc'd, NUL
 * appended).  With secret, apply the checks of the header comment.
 * Returns 0, or -1 with the reason in err (the path is the caller's to
 * name).
 */
extern int	fe_read_file(const char *path, bool secret, size_t max_len,
						 char **out, size_t *out_len, char *err, size_t errlen);

#endif							/* FE_SECRETFILE_H */
