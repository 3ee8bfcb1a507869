/*
 * One framing core for PostgreSQL's v3 messages (type byte + int32 length that counts itself).
 * Fed bytes in arbitrary chunks; never allocates, never reads past what it is given. The caller
 * walks a chunk with framer_step() and gets one event at a time.
 */
#ifndef WEIR_FRAMER_H
#define WEIR_FRAMER_H
#include <stddef.h>
#include <stdint.h>

enum {
  FR_MORE = 0,    /* the chunk is used up (a header may be held in f->hdr) */
  FR_HEADER = 1,  /* a header completed: f->type, f->len, f->start (offset in chunk, <0: began before it) */
  FR_BODY = 2,    /* body bytes [*a, *b) of the current message lie in the chunk */
  FR_END = 3,     /* the current message ended at offset *b */
  FR_BAD = 4,     /* the length field is below 4 or above f->max: the stream cannot be framed */
};

typedef struct {
  uint32_t max;      /* largest length field accepted (counts itself, not the type byte) */
  uint32_t need;     /* body bytes still to come */
  uint32_t len;      /* length field of the current message */
  int64_t start;     /* where the current message's header began in the chunk being walked */
  uint8_t hdr[5];
  uint8_t hlen;      /* header bytes held (0..4 between chunks) */
  uint8_t in_body;
  uint8_t type;
  uint8_t failed;
} framer_t;

static inline void framer_init(framer_t *f, uint32_t max) {
  f->max = max; f->need = 0; f->len = 0; f->start = 0; f->hlen = 0; f->in_body = 0; f->type = 0; f->failed = 0;
}

static inline int framer_at_boundary(const framer_t *f) {
  return f->hlen == 0 && !f->in_body && !f->failed;
}

/*
 * One step from *pos in p[0..n). FR_BODY and FR_END report ranges through a and b. A message
 * with an empty body gives FR_HEADER, then FR_END. After FR_BAD every call returns FR_BAD.
 */
static inline int framer_step(framer_t *f, const uint8_t *p, size_t n, size_t *pos, size_t *a, size_t *b) {
  if (f->failed) return FR_BAD;
  if (f->in_body) {
    if (f->need == 0) {
      f->in_body = 0;
      *b = *pos;
      return FR_END;
    }
    if (*pos >= n) return FR_MORE;
    size_t take = n - *pos;
    if (take > f->need) take = f->need;
    *a = *pos;
    *pos += take;
    *b = *pos;
    f->need -= (uint32_t)take;
    return FR_BODY;
  }
  if (*pos >= n) return FR_MORE;
  if (f->hlen == 0) f->start = (int64_t)*pos;
  while (f->hlen < 5 && *pos < n) f->hdr[f->hlen++] = p[(*pos)++];
  if (f->hlen < 5) return FR_MORE;
  f->hlen = 0;
  f->type = f->hdr[0];
  f->len = ((uint32_t)f->hdr[1] << 24) | ((uint32_t)f->hdr[2] << 16) | ((uint32_t)f->hdr[3] << 8) | (uint32_t)f->hdr[4];
  if (f->len < 4 || f->len > f->max) {
    f->failed = 1;
    return FR_BAD;
  }
  f->need = f->len - 4;
  f->in_body = 1;
  return FR_HEADER;
}

/* A new chunk begins: a header held from the last one began before it. */
static inline void framer_chunk(framer_t *f) {
  if (f->hlen > 0) f->start = -(int64_t)f->hlen;
}

#endif
