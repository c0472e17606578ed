/* s3_xml_fuzz.c: the S3 answer reader (src/sink/s3/s3_xml.c) on arbitrary bytes: element lookup
 * for the tags sluice reads (error Code/Message, UploadId, the Upload list of
 * ListMultipartUploads with its markers) and entity decoding. Checks that every span found lies
 * inside the input, that lookups make progress, and that decoding never grows the text or
 * overruns its output. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sink/s3/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *x = (const char *)data;
    static const char *const tags[] = {"Code", "Message", "UploadId", "IsTruncated",
                                       "NextKeyMarker", "NextUploadIdMarker", "Key"};
    char out[256];
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        sl_s3_xml_text(x, size, tags[i], out, sizeof(out));
        assert(strlen(out) < sizeof(out));
    }
    size_t pos = 0, bl, uploads = 0;
    const char *b;
    while (sl_s3_xml_next(x, size, "Upload", &pos, &b, &bl)) {
        assert(b >= x && b + bl <= x + size && pos <= size);
        char k[64], id[64];
        sl_s3_xml_text(b, bl, "Key", k, sizeof(k));
        sl_s3_xml_text(b, bl, "UploadId", id, sizeof(id));
        assert(++uploads <= size);
    }
    char big[4096];
    size_t n = size < 4000 ? size : 4000;
    size_t got = sl_s3_xml_decode(x, n, big, sizeof(big));
    assert(got <= n && big[got] == '\0');
    char tiny[3];
    got = sl_s3_xml_decode(x, size, tiny, sizeof(tiny));
    assert(got <= 2 && tiny[got] == '\0');
    return 0;
}
