#include "postgres.h"
#include "lease.h"
void pha_lease_init(void) {}
void pha_lease_decide(PhaRequest *req)
{
	for (int g = 0; g < req->ngroups; g++)
	{
		req->groups[g].spans = palloc(sizeof(PhaSpan));
		req->groups[g].spans[0].lo = PG_INT64_MIN;
		req->groups[g].spans[0].hi = PG_INT64_MAX;
		req->groups[g].nspans = 1;
	}
}
void pha_lease_record(PhaRequest *req) {}
