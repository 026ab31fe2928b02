/*-------------------------------------------------------------------------
 *
 * secretfile.c
 *	  Reading the files that hold credentials and keys, refusing ones
 *	  that others can read.
 *
 * Secrets (the bearer token, the basic-auth users, the TLS private key)
 * come only from files, never from the command line or the environment,
 * where ps and /proc/PID/environ would show them.  Like ssh with a private
 * key, a secret file is refused unless
 *
 *	 - it is a regular file (after following symbolic links),
 *	 - no permission bit is set for group or others (mode & 077 == 0:
 *	   chmod 600 or 400), and
 *	 - it is owned by the user running the program or by root.
 *
 * The checks are made with fstat() on the descriptor that is then read,
 * so the file cannot be swapped between the check and the read.  Files
 * are read once at start-up; a changed secret needs a restart.  The
 * buffer returned holds the contents plus a NUL; the caller wipes
 * (fe_wipe) and frees it.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secretfile.h"
#include "sha256.h"

/*
 * Read a whole file of at most max_len bytes into *out (malloc'd, NUL
 * appended).  With secret, apply the checks of the header comment.
 * Returns 0, or -1 with the reason in err (the path is the caller's to
 * name).
 */
int
fe_read_file(const char *path, bool secret, size_t max_len, char **out,
			 size_t *out_len, char *err, size_t errlen)
{
	struct stat st;
	char	   *buf;
	size_t		len = 0;
	int			fd;

	*out = NULL;
	*out_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
	{
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0)
	{
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
	{
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	if (secret && (st.st_mode & 077) != 0)
	{
		snprintf(err, errlen, "permissions %04o are too open: a file with secrets must not be "
				 "accessible by group or others (chmod 600 it)",
				 (unsigned int) (st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (secret && st.st_uid != geteuid() && st.st_uid != 0)
	{
		snprintf(err, errlen, "owned by uid %u: a file with secrets must be owned by the user "
				 "running promscale-ha-http (uid %u) or by root",
				 (unsigned int) st.st_uid, (unsigned int) geteuid());
		close(fd);
		return -1;
	}
	if ((size_t) st.st_size > max_len)
	{
		snprintf(err, errlen, "%lld bytes is over the limit of %zu bytes",
				 (long long) st.st_size, max_len);
		close(fd);
		return -1;
	}

	buf = malloc(max_len + 1);
	if (buf == NULL)
	{
		snprintf(err, errlen, "out of memory");
		close(fd);
		return -1;
	}
	/* read up to max_len + 1 bytes: a file that grew since fstat is caught */
	for (;;)
	{
		ssize_t		n = read(fd, buf + len, max_len + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			snprintf(err, errlen, "cannot read: %s", strerror(errno));
			fe_wipe(buf, len);
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if (len > max_len)
		{
			snprintf(err, errlen, "more than %zu bytes", max_len);
			fe_wipe(buf, len);
			free(buf);
			close(fd);
			return -1;
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}
