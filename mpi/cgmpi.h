// Thin wrappers over the MPI C API for cgo: MPI_COMM_WORLD, the datatypes
// and the operations are macros over Open MPI's globals, which cgo cannot
// name directly. Included by the files with the build tag "mpi" only.
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int cg_init(int *provided) {
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
}

static inline int cg_state(int *initialized, int *finalized) {
	int rc = MPI_Initialized(initialized);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Finalized(finalized);
}

static inline int cg_errors_return(void) {
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

static inline int cg_rank_size(int *rank, int *size) {
	int rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}

static inline void cg_error_string(int code, char *buf, int *len) {
	if (MPI_Error_string(code, buf, len) != MPI_SUCCESS) {
		*len = 0;
	}
}

static inline int cg_iallreduce_sum_f32(const float *send, float *recv, int n, MPI_Request *req) {
	return MPI_Iallreduce(send, recv, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, req);
}

static inline int cg_iallreduce_max_u64(const uint64_t *send, uint64_t *recv, int n, MPI_Request *req) {
	return MPI_Iallreduce(send, recv, n, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD, req);
}

static inline int cg_iallgather_i64(const int64_t *send, int64_t *recv, MPI_Request *req) {
	return MPI_Iallgather(send, 1, MPI_INT64_T, recv, 1, MPI_INT64_T, MPI_COMM_WORLD, req);
}

static inline int cg_iallgatherv_bytes(const void *send, int n, void *recv, const int *counts,
                                       const int *displs, MPI_Request *req) {
	return MPI_Iallgatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, MPI_COMM_WORLD, req);
}

static inline int cg_test(MPI_Request *req, int *done) {
	return MPI_Test(req, done, MPI_STATUS_IGNORE);
}

// cg_isend_bytes starts a send that nobody waits for (the failure notice).
static inline int cg_isend_bytes(const char *buf, int n, int dest, int tag, MPI_Request *req) {
	return MPI_Isend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, req);
}

// cg_probe reports whether a message with tag has arrived, from whom and
// how long it is.
static inline int cg_probe(int tag, int *found, int *source, int *count) {
	MPI_Status st;
	int rc = MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, found, &st);
	if (rc != MPI_SUCCESS || !*found) return rc;
	*source = st.MPI_SOURCE;
	return MPI_Get_count(&st, MPI_BYTE, count);
}

static inline int cg_recv_bytes(char *buf, int n, int source, int tag) {
	return MPI_Recv(buf, n, MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

static inline void cg_sleep_us(long us) {
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

// cg_alloc is malloc without cgo's crash on failure: NULL when out of memory.
static inline void *cg_alloc(size_t n) {
	return malloc(n);
}
