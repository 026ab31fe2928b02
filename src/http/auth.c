/*-------------------------------------------------------------------------
 *
 * auth.c
 *	  Bearer-token and basic authentication of promscale-ha-http.
 *
 * Off by default.  With --bearer-token-file and/or --basic-auth-file,
 * POST /write, POST /read (and their /api/v1/ paths) and GET /metrics need
 * an Authorization header that matches; GET /healthz and GET / never do
 * (load balancers probe /healthz without credentials).  When both are
 * configured either scheme is accepted.  Prometheus sends them with
 * remote_write's (and remote_read's) authorization: {credentials_file:
 * ...} or basic_auth: {username: ..., password_file: ...}.
 *
 * The files (read once at start-up by secretfile.c, which refuses files
 * that group or others can access):
 *
 *	 bearer token	one line of printable ASCII without blanks; blanks and
 *					the newline around it are ignored (as Prometheus
 *					trims its credentials_file).
 *	 basic auth		one user per line, "user:password" or
 *					"user:$sha256$HEX" with HEX the 64 hex digits of the
 *					password's SHA-256 (printf %s 'PW' | sha256sum).  The
 *					password is everything after the first colon, exactly
 *					(no trimming but of a final CR).  Empty lines and lines
 *					starting with # are skipped.  The hash is unsalted: it
 *					keeps the password out of the file, not a weak password
 *					from a brute-force search, so use long random ones.
 *
 * Only SHA-256 digests of the secrets are kept in memory; the file
 * contents are wiped after loading.  A request's credentials are hashed
 * too and the digests compared in constant time (fe_ct_equal); a basic
 * login is compared with every user, without stopping at a match, so the
 * time a check takes says nothing about the secret, the user name or how
 * close a guess came.
 *
 * Every failure is answered 401 (never 400 or 403: Prometheus logs a 4xx
 * and drops the batch, and a 401 tells an operator exactly what is wrong)
 * with WWW-Authenticate challenges for the configured schemes, and logged
 * as one warning line with the reason, never with the secret.  The check
 * runs on the first call of a request, before any of its body is read:
 * an unauthenticated client cannot make us buffer a body or touch the
 * database.  When the 401 is sent is server.c's business (after the body,
 * which is read and dropped, so that the client sees the answer rather
 * than a reset connection).  No locks: the tables are built before the
 * server starts and only read afterwards.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "log.h"
#include "secretfile.h"
#include "sha256.h"

#define MAX_TOKEN_FILE		(64 * 1024)
#define MAX_USERS_FILE		(1024 * 1024)
#define MAX_BASIC_DECODED	1024	/* "user:password" of a request */
#define SHORT_TOKEN			16	/* warn below this many characters */
#define HASH_PREFIX			"$sha256$"

#define CHALLENGE_BEARER		"Bearer realm=\"promscale_ha\""
#define CHALLENGE_BEARER_BAD	"Bearer realm=\"promscale_ha\", error=\"invalid_token\""
#define CHALLENGE_BASIC			"Basic realm=\"promscale_ha\""

typedef struct FeAuthUser
{
	char	   *name;			/* for the log; not a secret */
	unsigned char name_digest[FE_SHA256_LEN];
	unsigned char pass_digest[FE_SHA256_LEN];
} FeAuthUser;

static bool bearer_on;
static unsigned char bearer_digest[FE_SHA256_LEN];
static FeAuthUser *users;
static int	nusers;

/* Is c printable ASCII other than blank? */
static bool
visible(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Value of one hex digit, -1 when not one. */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the bearer token file into bearer_digest; -1 after printing why. */
static int
load_bearer(const char *path)
{
	char	   *buf;
	size_t		len;
	char		err[256];
	char	   *s;
	size_t		n;
	int			rc = 0;

	if (fe_read_file(path, true, MAX_TOKEN_FILE, &buf, &len, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "promscale-ha-http: --bearer-token-file %s: %s\n", path, err);
		return -1;
	}
	s = buf;
	n = len;
	while (n > 0 && isspace((unsigned char) *s))
	{
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char) s[n - 1]))
		n--;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!visible((unsigned char) s[i]))
			rc = -1;
	if (n == 0 || rc != 0)
	{
		fprintf(stderr, "promscale-ha-http: --bearer-token-file %s: %s\n", path,
				n == 0 ? "the file is empty" :
				"the token must be one line of printable ASCII without blanks");
		rc = -1;
	}
	else
	{
		fe_sha256(s, n, bearer_digest);
		bearer_on = true;
		if (n < SHORT_TOKEN)
			fe_log(FE_LOG_WARNING, "the bearer token in %s has only %zu characters: "
				   "use a long random one (e.g. openssl rand -hex 32)", path, n);
	}
	fe_wipe(buf, len);
	free(buf);
	return rc;
}

/*
 * Parse one line "user:password" or "user:$sha256$HEX" of the basic-auth
 * file into u.  Returns NULL, or what is wrong with the line.
 */
static const char *
parse_user_line(char *line, size_t len, FeAuthUser *u)
{
	char	   *colon = memchr(line, ':', len);
	size_t		ulen;
	const char *pw;
	size_t		pwlen;

	if (colon == NULL)
		return "expected user:password";
	ulen = (size_t) (colon - line);
	if (ulen == 0)
		return "empty user name";
	for (size_t i = 0; i < ulen; i++)
		if ((unsigned char) line[i] < 0x20 || line[i] == 0x7f)
			return "control character in the user name";
	pw = colon + 1;
	pwlen = len - ulen - 1;
	if (pwlen == 0)
		return "empty password";
	for (size_t i = 0; i < pwlen; i++)
		if (pw[i] == '\0')
			return "NUL byte in the password";

	if (pwlen >= strlen(HASH_PREFIX) && memcmp(pw, HASH_PREFIX, strlen(HASH_PREFIX)) == 0)
	{
		const char *hex = pw + strlen(HASH_PREFIX);

		if (pwlen - strlen(HASH_PREFIX) != 2 * FE_SHA256_LEN)
			return "expected 64 hex digits after $sha256$";
		for (int i = 0; i < FE_SHA256_LEN; i++)
		{
			int			hi = hexval((unsigned char) hex[2 * i]);
			int			lo = hexval((unsigned char) hex[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return "expected 64 hex digits after $sha256$";
			u->pass_digest[i] = (unsigned char) (hi * 16 + lo);
		}
	}
	else
		fe_sha256(pw, pwlen, u->pass_digest);

	u->name = strndup(line, ulen);
	if (u->name == NULL)
		return "out of memory";
	fe_sha256(line, ulen, u->name_digest);
	return NULL;
}

/* Read the basic-auth file into users[]; -1 after printing why. */
static int
load_users(const char *path)
{
	char	   *buf;
	size_t		len;
	char		err[256];
	char	   *p;
	int			lineno = 0;
	int			cap = 0;
	int			rc = 0;

	if (fe_read_file(path, true, MAX_USERS_FILE, &buf, &len, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "promscale-ha-http: --basic-auth-file %s: %s\n", path, err);
		return -1;
	}
	p = buf;
	while (p < buf + len && rc == 0)
	{
		char	   *nl = memchr(p, '\n', (size_t) (buf + len - p));
		char	   *end = nl ? nl : buf + len;
		size_t		llen;
		const char *why;
		FeAuthUser	u;

		lineno++;
		llen = (size_t) (end - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (llen == 0 || p[0] == '#')
		{
			p = nl ? nl + 1 : buf + len;
			continue;
		}
		memset(&u, 0, sizeof(u));
		why = parse_user_line(p, llen, &u);
		if (why == NULL)
			for (int i = 0; i < nusers; i++)
				if (strcmp(users[i].name, u.name) == 0)
					why = "the user appears twice";
		if (why == NULL && nusers == cap)
		{
			int			ncap = cap ? cap * 2 : 8;
			FeAuthUser *nu = realloc(users, sizeof(FeAuthUser) * (size_t) ncap);

			if (nu == NULL)
				why = "out of memory";
			else
			{
				users = nu;
				cap = ncap;
			}
		}
		if (why != NULL)
		{
			/* the line may hold a password: name only its number */
			fprintf(stderr, "promscale-ha-http: --basic-auth-file %s, line %d: %s\n",
					path, lineno, why);
			free(u.name);
			rc = -1;
		}
		else
			users[nusers++] = u;
		fe_wipe(&u, sizeof(u));
		p = nl ? nl + 1 : buf + len;
	}
	if (rc == 0 && nusers == 0)
	{
		fprintf(stderr, "promscale-ha-http: --basic-auth-file %s: no user in the file\n", path);
		rc = -1;
	}
	fe_wipe(buf, len);
	free(buf);
	return rc;
}

/*
 * Load the credentials named by the configuration.  Returns 0 (also when
 * none is configured), or -1 after printing the reason to stderr.
 */
int
fe_auth_load(const FeConfig *cfg)
{
	if (cfg->bearer_token_file != NULL && load_bearer(cfg->bearer_token_file) != 0)
		return -1;
	if (cfg->basic_auth_file != NULL && load_users(cfg->basic_auth_file) != 0)
	{
		fe_auth_free();
		return -1;
	}
	return 0;
}

/* Forget every credential. */
void
fe_auth_free(void)
{
	for (int i = 0; i < nusers; i++)
		free(users[i].name);
	if (users != NULL)
		fe_wipe(users, sizeof(FeAuthUser) * (size_t) nusers);
	free(users);
	users = NULL;
	nusers = 0;
	fe_wipe(bearer_digest, sizeof(bearer_digest));
	bearer_on = false;
}

/* Is any authentication configured? */
bool
fe_auth_enabled(void)
{
	return bearer_on || nusers > 0;
}

/* What is configured, in words, for the start-up log line. */
void
fe_auth_describe(char *out, size_t outlen)
{
	if (bearer_on && nusers > 0)
		snprintf(out, outlen, "bearer token or basic auth (%d users)", nusers);
	else if (bearer_on)
		snprintf(out, outlen, "bearer token");
	else if (nusers > 0)
		snprintf(out, outlen, "basic auth (%d users)", nusers);
	else
		snprintf(out, outlen, "none");
}

/* Does this endpoint need credentials?  /healthz and / never do. */
bool
fe_auth_required(FeHandler handler)
{
	return fe_auth_enabled() && (handler == FE_H_WRITE || handler == FE_H_READ ||
								  handler == FE_H_METRICS || handler == FE_H_STATUS);
}

/* Value of one base64 character (standard alphabet), -1 when not one. */
static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 (padding optional) into out, at most outcap bytes.
 * Returns the length, or -1 when malformed or too long.
 */
static long
b64decode(const char *in, size_t inlen, unsigned char *out, size_t outcap)
{
	unsigned int acc = 0;
	int			bits = 0;
	size_t		n = 0;

	while (inlen > 0 && in[inlen - 1] == '=')
		inlen--;
	for (size_t i = 0; i < inlen; i++)
	{
		int			v = b64val((unsigned char) in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n >= outcap)
				return -1;
			out[n++] = (unsigned char) (acc >> bits);
		}
	}
	return (long) n;
}

/* Check a bearer token against ours. */
static bool
bearer_ok(const char *token, size_t len)
{
	unsigned char d[FE_SHA256_LEN];
	bool		ok;

	fe_sha256(token, len, d);
	ok = fe_ct_equal(d, bearer_digest, sizeof(d));
	fe_wipe(d, sizeof(d));
	return ok;
}

/*
 * Check base64 "user:password" against every user, without stopping at a
 * match.  Returns true when it matched; otherwise why says what was wrong
 * (user_idx is the index of a known user with a wrong password, or -1).
 */
static bool
basic_ok(const char *b64, size_t b64len, const char **why, int *user_idx)
{
	unsigned char dec[MAX_BASIC_DECODED];
	unsigned char ud[FE_SHA256_LEN];
	unsigned char pd[FE_SHA256_LEN];
	long		len = b64decode(b64, b64len, dec, sizeof(dec));
	unsigned char *colon;
	bool		ok = false;

	*user_idx = -1;
	if (len < 0)
	{
		*why = "malformed basic credentials (not base64, or too long)";
		fe_wipe(dec, sizeof(dec));
		return false;
	}
	colon = memchr(dec, ':', (size_t) len);
	if (colon == NULL)
	{
		*why = "malformed basic credentials (no colon)";
		fe_wipe(dec, sizeof(dec));
		return false;
	}
	fe_sha256(dec, (size_t) (colon - dec), ud);
	fe_sha256(colon + 1, (size_t) (len - (colon + 1 - dec)), pd);
	fe_wipe(dec, sizeof(dec));
	for (int i = 0; i < nusers; i++)
	{
		bool		name_eq = fe_ct_equal(ud, users[i].name_digest, sizeof(ud));
		bool		pass_eq = fe_ct_equal(pd, users[i].pass_digest, sizeof(pd));

		/* no short-circuit: every user costs the same two comparisons */
		ok |= name_eq & pass_eq;
		if (name_eq)
			*user_idx = i;
	}
	fe_wipe(pd, sizeof(pd));
	*why = ok ? NULL : "wrong user name or password";
	return ok;
}

/*
 * Answer the 401 of a request whose check failed (ex->auth_reject): the
 * challenges of the configured schemes, the reason as the body (it never
 * says whether a user name exists), and one log line with the reason
 * (naming a known user whose password was wrong).
 */
enum MHD_Result
fe_auth_reject(struct MHD_Connection *conn, FeExchange *ex)
{
	const char *hdrs[4];
	int			nh = 0;
	char		body[128];
	const char *reason = ex->auth_reject ? ex->auth_reject : "not authenticated";

	if (ex->auth_user >= 0 && ex->auth_user < nusers)
		fe_log(FE_LOG_WARNING, "%s %s from %s: 401 unauthorized: wrong password for user \"%s\"",
			   ex->method, ex->path, ex->peer, users[ex->auth_user].name);
	else
		fe_log(FE_LOG_WARNING, "%s %s from %s: 401 unauthorized: %s",
			   ex->method, ex->path, ex->peer, reason);
	if (bearer_on)
	{
		hdrs[nh++] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		hdrs[nh++] = ex->auth_bad_token ? CHALLENGE_BEARER_BAD : CHALLENGE_BEARER;
	}
	if (nusers > 0)
	{
		hdrs[nh++] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		hdrs[nh++] = CHALLENGE_BASIC;
	}
	snprintf(body, sizeof(body), "unauthorized: %s\n", reason);
	return fe_respond_headers(conn, ex, 401, "unauthorized", NULL, body, strlen(body),
							  hdrs, nh / 2);
}

/*
 * Check the Authorization header of a request that needs it.  Returns true
 * when it may go on; otherwise false with the reason in ex->auth_reject
 * (a static string), for fe_auth_reject.
 */
bool
fe_auth_check(struct MHD_Connection *conn, FeExchange *ex)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cred;
	size_t		slen;
	size_t		clen;
	const char *why;

	ex->auth_user = -1;
	ex->auth_bad_token = false;
	if (h == NULL)
	{
		ex->auth_reject = "no Authorization header";
		return false;
	}
	while (*h == ' ' || *h == '\t')
		h++;
	for (slen = 0; h[slen] && h[slen] != ' ' && h[slen] != '\t'; slen++)
		;
	cred = h + slen;
	while (*cred == ' ' || *cred == '\t')
		cred++;
	clen = strlen(cred);
	while (clen > 0 && (cred[clen - 1] == ' ' || cred[clen - 1] == '\t'))
		clen--;

	if (slen == 6 && strncasecmp(h, "Bearer", 6) == 0)
	{
		if (!bearer_on)
			why = "bearer token sent, but only basic auth is configured";
		else if (clen == 0)
			why = "empty bearer token";
		else if (bearer_ok(cred, clen))
			return true;
		else
		{
			why = "wrong bearer token";
			ex->auth_bad_token = true;
		}
	}
	else if (slen == 5 && strncasecmp(h, "Basic", 5) == 0)
	{
		if (nusers == 0)
			why = "basic credentials sent, but only a bearer token is configured";
		else if (basic_ok(cred, clen, &why, &ex->auth_user))
			return true;
	}
	else
		why = "unsupported Authorization scheme (expected Bearer or Basic)";
	ex->auth_reject = why;
	return false;
}
