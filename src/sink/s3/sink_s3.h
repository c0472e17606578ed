/* sink_s3.h: the S3 / MinIO file sink.
 *
 * publish() uploads the staged file (single PUT or multipart, see s3.h) to
 * PREFIX/KEY and removes the staged file on success; check() is a HEAD on the bucket;
 * describe() gives s3://BUCKET/PREFIX/STREAM/. Thread-safe: lanes of several streams may
 * publish at once.
 */
#ifndef SL_SINK_S3_SINK_S3_H
#define SL_SINK_S3_SINK_S3_H

#include "sink/s3/s3.h"
#include "sink/sink.h"

/* Creates the sink for c (copied). SL_INVALID with message and hint in e for a bad
 * configuration (no bucket, bad endpoint, part size, layout). */
SL_NODISCARD sl_err sl_sink_s3_create(const sl_s3_config *c, sl_file_sink **out,
                                      sl_sink_error *e);

#endif
