/*-------------------------------------------------------------------------
 *
 * write.h
 *	  POST /write: remote-write requests into promscale_ha.write().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_WRITE_H
#define PHA_HTTP_WRITE_H

#include <stddef.h>

#include "server.h"

extern enum MHD_Result pha_write_begin(struct MHD_Connection *conn, PhaRequest *req);
extern enum MHD_Result pha_write_body(struct MHD_Connection *conn, PhaRequest *req,
									  const char *data, size_t *size);
extern enum MHD_Result pha_write_finish(struct MHD_Connection *conn, PhaRequest *req);
extern void pha_write_cleanup(PhaRequest *req);
extern size_t pha_write_inflight_bytes(void);

/* the statement numbers of pha_conn_prepare() */
#define PHA_STMT_WRITE 0

#endif							/* PHA_HTTP_WRITE_H */
