/*
 * @weir/io: the native data plane. Sockets of logged-in clients and of server connections live
 * here as libuv handles on Node's own loop. A connection is in one of two modes:
 *   js     — every chunk read goes to JavaScript (login, admin, plugins' framed path, waiting);
 *   linked — a client and a server forward to each other in C, framed by framer.h, and
 *            JavaScript hears only of release points, idle points, a few server messages
 *            (ParameterStatus, ErrorResponse) and the end of the link.
 * N-API and libuv only: one build serves every Node version with N-API 8.
 */
#define _GNU_SOURCE /* accept4 */
#include <node_api.h>
#include <uv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdbool.h>
#include "framer.h"

#define READ_SIZE 65536
#define CAPTURE_MAX (256 * 1024)
#define SLAB_LEN 16

enum { KIND_NEW = 0, KIND_CLIENT = 1, KIND_SERVER = 2 };
enum { MODE_JS = 0, MODE_LINKED = 1 };
/* Slab fields, written before a call that reports link state. */
enum {
  S_RELEASED = 0, S_TXSTATUS, S_PENDING, S_UNSYNCED, S_BYTES_IN, S_BYTES_OUT, S_QUERIES, S_PARSES,
  S_BINDS, S_QUERY_US, S_QUERY_AGE, S_IDLE_AGE, S_TX_AGE, S_CLIENT_BOUNDARY,
};
/* Why a link ended, as told to JavaScript. */
enum { U_TERMINATE = 1, U_BAD_MESSAGE = 2, U_CLOSED = 3, U_SUBSCRIBED = 4 };
/* link() flags */
enum { L_TXMODE = 1, L_REARM = 2 };

typedef struct event_s {
  struct event_s *next;
  uint8_t type;
  uint32_t len;
  uint8_t body[];
} event_t;

typedef struct conn_s {
  uv_tcp_t tcp;
  uint32_t slot, gen;
  napi_ref wrapper;
  uint8_t kind, mode, reading, closing, js_paused, bp_paused, want_drain, shutting, connecting, capturing;
  uint8_t txstatus, unsynced, in_tx, eof_seen;
  struct conn_s *peer;
  uint32_t waiter_slot, waiter_gen; /* a linked peer whose reading waits for this conn's writes */
  size_t queued;
  framer_t fr;
  uint8_t *cap;
  uint32_t caplen, capcap;
  uint8_t cap_over;
  event_t *ev_head, *ev_tail;
  /* link accounting (kept on the client side) */
  int64_t pending;
  double bytes_in, bytes_out, queries, parses, binds, query_us;
  uint64_t query_t0;
  int64_t query_since, idle_since, tx_since; /* uv_now ms; -1 none */
  uint8_t txmode; /* 1: transaction pooling (release at idle), 0: session */
  /*
   * Armed: the client has no server and JavaScript needs no bytes to give it one. Its next
   * chunk is held here (`arm_held`) and JavaScript hears only `want`; the link it makes then
   * forwards the held bytes in C. Reads go on meanwhile (a close is seen); a second chunk before
   * the link sends everything held to JavaScript as data. `rearm`: arm again at this link's release.
   */
  uint8_t armed, rearm, arm_held;
  /*
   * Message types JavaScript's framed path (plugins' message hooks) must see: the link stops at
   * the first one. With `sub` set, the client's bytes from that message on are held (its reads
   * stopped) until the server owes nothing, so the framed path starts between answers.
   */
  uint8_t *sub;
  uint8_t *held;
  size_t heldlen;
  uint8_t held_reason, holding;
  /*
   * A watched link (plugins wait to hear how answers ended): the types of the server messages
   * that end an answer, in order, for JavaScript to settle its plan with when the link ends.
   */
  uint8_t *wlog;
  uint32_t wlen, wcap, wsize; /* wcap: this link's limit (0: not watched); wsize: allocated */
  uint8_t woverflow, subscribed;
  char *close_error;
} conn_t;

typedef struct {
  uv_write_t req;
  uint32_t slot, gen;
  size_t len;
  char data[];
} wreq_t;

typedef struct {
  uv_tcp_t tcp;
  uint32_t id;
  uint8_t closing;
} listener_t;

static napi_env g_env;
#define NCB 9
static napi_ref g_cb[NCB];
enum { CB_ACCEPT = 0, CB_CONNECTED, CB_DATA, CB_CLOSE, CB_DRAIN, CB_IDLE, CB_UNLINKED, CB_EVENT, CB_WANT };
static napi_async_context g_async;
static napi_ref g_resource;
static double *g_slab;
static napi_ref g_slab_ref;
static uint8_t g_readbuf[READ_SIZE];
static uv_loop_t *g_loop;

static conn_t **g_slots;
static uint32_t *g_gens;
static uint32_t g_nslots;
static uint32_t *g_free;
static uint32_t g_nfree;

/* ---------------------------------------------------------------- slots */

static conn_t *slot_alloc(void) {
  if (g_nfree == 0) {
    uint32_t n = g_nslots == 0 ? 1024 : g_nslots * 2;
    conn_t **s = realloc(g_slots, n * sizeof(*s));
    uint32_t *g = realloc(g_gens, n * sizeof(*g));
    uint32_t *f = realloc(g_free, n * sizeof(*f));
    if (!s || !g || !f) abort();
    g_slots = s; g_gens = g; g_free = f;
    for (uint32_t i = n; i > g_nslots; i--) {
      g_slots[i - 1] = NULL;
      g_gens[i - 1] = 0;
      g_free[g_nfree++] = i - 1;
    }
    g_nslots = n;
  }
  conn_t *c = calloc(1, sizeof(conn_t));
  if (!c) abort();
  c->slot = g_free[--g_nfree];
  c->gen = ++g_gens[c->slot];
  g_slots[c->slot] = c;
  c->txstatus = 'I';
  c->query_since = c->idle_since = c->tx_since = -1;
  c->tcp.data = c;
  return c;
}

static double conn_id(const conn_t *c) { return (double)c->gen * 16777216.0 + (double)c->slot; }

static conn_t *conn_by(uint32_t slot, uint32_t gen) {
  if (slot >= g_nslots) return NULL;
  conn_t *c = g_slots[slot];
  return c != NULL && c->gen == gen ? c : NULL;
}

static conn_t *conn_from_id(double id) {
  if (!(id >= 0)) return NULL;
  uint64_t v = (uint64_t)id;
  return conn_by((uint32_t)(v & 0xffffff), (uint32_t)(v >> 24));
}

/* ---------------------------------------------------------------- calling JavaScript */

static void call_js(int cb, size_t argc, napi_value *argv) {
  napi_env env = g_env;
  napi_value fn, recv, res;
  napi_get_reference_value(env, g_cb[cb], &fn);
  napi_get_reference_value(env, g_resource, &recv); /* make_callback wants an object */
  napi_status st = napi_make_callback(env, g_async, recv, fn, argc, argv, &res);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

static napi_value js_wrapper(conn_t *c) {
  napi_value v = NULL;
  if (c->wrapper) napi_get_reference_value(g_env, c->wrapper, &v);
  if (v == NULL) napi_get_undefined(g_env, &v);
  return v;
}

static napi_value js_num(double d) {
  napi_value v;
  napi_create_double(g_env, d, &v);
  return v;
}

/* Calls from libuv callbacks open their own handle scope. */
#define JS_SCOPE_BEGIN napi_handle_scope scope__; napi_open_handle_scope(g_env, &scope__);
#define JS_SCOPE_END napi_close_handle_scope(g_env, scope__);

/* ---------------------------------------------------------------- closing */

static void update_reading(conn_t *c);
static void process_chunk(conn_t *c, const uint8_t *p, size_t n);

static void free_events(conn_t *c) {
  event_t *e = c->ev_head;
  while (e) {
    event_t *n = e->next;
    free(e);
    e = n;
  }
  c->ev_head = c->ev_tail = NULL;
}

static void release_waiter(conn_t *c) {
  if (c->waiter_gen == 0) return;
  conn_t *w = conn_by(c->waiter_slot, c->waiter_gen);
  c->waiter_gen = 0;
  if (w && !w->closing) {
    w->bp_paused = 0;
    update_reading(w);
  }
}

static void on_closed(uv_handle_t *h) {
  conn_t *c = (conn_t *)h->data;
  if (c->wrapper) {
    JS_SCOPE_BEGIN
    napi_value argv[2];
    argv[0] = js_wrapper(c);
    if (c->close_error) napi_create_string_utf8(g_env, c->close_error, NAPI_AUTO_LENGTH, &argv[1]);
    else napi_get_null(g_env, &argv[1]);
    call_js(CB_CLOSE, 2, argv);
    JS_SCOPE_END
    napi_delete_reference(g_env, c->wrapper);
  }
  g_slots[c->slot] = NULL;
  g_free[g_nfree++] = c->slot;
  free(c->cap);
  free(c->sub);
  free(c->held);
  free(c->wlog);
  free(c->close_error);
  free_events(c);
  free(c);
}

static void fill_slab(conn_t *cl, double released);
static void unlink_pair(conn_t *cl);
static void drop_hold(conn_t *cl);
static void end_link(conn_t *cl, int why);

static void conn_close(conn_t *c, const char *error) {
  if (c->closing) return;
  c->closing = 1;
  if (error && !c->close_error) c->close_error = strdup(error);
  if (c->mode == MODE_LINKED) {
    conn_t *cl = c->kind == KIND_CLIENT ? c : c->peer;
    if (cl && cl->wrapper) {
      if (cl != c) drop_hold(cl);
      end_link(cl, U_CLOSED);
    } else {
      unlink_pair(cl ? cl : c);
    }
  }
  release_waiter(c);
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = 0;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  conn_t *c = (conn_t *)req->data;
  free(req);
  (void)status;
  conn_close(c, NULL);
}

/* Write what is queued, then FIN, then close (socket.end / destroySoon). */
static void conn_end(conn_t *c) {
  if (c->closing || c->shutting) return;
  c->shutting = 1;
  uv_shutdown_t *req = malloc(sizeof(*req));
  if (!req) abort();
  req->data = c;
  if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    free(req);
    conn_close(c, NULL);
  }
}

/* ---------------------------------------------------------------- writing */

static void on_written(uv_write_t *req, int status) {
  wreq_t *w = (wreq_t *)req;
  conn_t *c = conn_by(w->slot, w->gen);
  size_t len = w->len;
  free(w);
  if (c == NULL) return;
  c->queued -= len;
  if (status < 0 && status != UV_ECANCELED) {
    conn_close(c, uv_strerror(status));
    return;
  }
  if (c->queued == 0 && !c->closing) {
    release_waiter(c);
    if (c->want_drain && c->wrapper) {
      c->want_drain = 0;
      JS_SCOPE_BEGIN
      napi_value argv[1] = { js_wrapper(c) };
      call_js(CB_DRAIN, 1, argv);
      JS_SCOPE_END
    }
  }
}

/* Returns 1 when every byte went out now; 0 when some wait in libuv's queue (a copy of them). */
static int conn_write(conn_t *c, const uint8_t *p, size_t n) {
  if (c->closing || c->shutting) return 1;
  if (n == 0) return c->queued == 0;
  size_t done = 0;
  if (c->queued == 0) {
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (r == (int)n) return 1;
    if (r < 0 && r != UV_EAGAIN && r != UV_ENOSYS) {
      conn_close(c, uv_strerror(r));
      return 1;
    }
    if (r > 0) done = (size_t)r;
  }
  size_t rest = n - done;
  wreq_t *w = malloc(sizeof(wreq_t) + rest);
  if (!w) abort();
  w->slot = c->slot;
  w->gen = c->gen;
  w->len = rest;
  memcpy(w->data, p + done, rest);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)rest);
  int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
  if (r != 0) {
    free(w);
    conn_close(c, uv_strerror(r));
    return 1;
  }
  c->queued += rest;
  return 0;
}

/* Linked forwarding: a slow reader stops the other side's reads until its queue drains. */
static void forward(conn_t *from, conn_t *to, const uint8_t *p, size_t n) {
  if (n == 0) return;
  if (!conn_write(to, p, n) && !to->closing) {
    from->bp_paused = 1;
    to->waiter_slot = from->slot;
    to->waiter_gen = from->gen;
    update_reading(from);
  }
}

/* ---------------------------------------------------------------- reading */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h; (void)hint;
  *buf = uv_buf_init((char *)g_readbuf, READ_SIZE);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  conn_t *c = (conn_t *)s->data;
  (void)buf;
  if (nread == 0) return;
  if (nread < 0) {
    c->eof_seen = 1;
    conn_close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
    return;
  }
  process_chunk(c, g_readbuf, (size_t)nread);
}

static void update_reading(conn_t *c) {
  int should = c->kind != KIND_NEW && !c->closing && !c->eof_seen && !c->js_paused && !c->bp_paused && !c->connecting && !c->holding;
  if (should && !c->reading) {
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = 1;
  } else if (!should && c->reading) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
  }
}

/* ---------------------------------------------------------------- server messages JS hears of */

static void capture_begin(conn_t *c) {
  c->capturing = 1;
  c->caplen = 0;
  c->cap_over = 0;
}

static void capture_add(conn_t *c, const uint8_t *p, size_t n) {
  if (c->cap_over) return;
  if ((size_t)c->caplen + n > CAPTURE_MAX) {
    c->cap_over = 1;
    return;
  }
  if (c->caplen + n > c->capcap) {
    uint32_t cap = c->capcap ? c->capcap : 256;
    while (cap < c->caplen + n) cap *= 2;
    uint8_t *b = realloc(c->cap, cap);
    if (!b) abort();
    c->cap = b;
    c->capcap = cap;
  }
  memcpy(c->cap + c->caplen, p, n);
  c->caplen += (uint32_t)n;
}

/* ParameterStatus or ErrorResponse ended: JavaScript hears of it (after the bytes are on their way). */
static void capture_event(conn_t *c) {
  if (c->cap_over) return; /* larger than any real one: not reported */
  event_t *e = malloc(sizeof(event_t) + c->caplen);
  if (!e) abort();
  e->next = NULL;
  e->type = c->fr.type;
  e->len = c->caplen;
  memcpy(e->body, c->cap, c->caplen);
  if (c->ev_tail) c->ev_tail->next = e;
  else c->ev_head = e;
  c->ev_tail = e;
}

static void flush_events(conn_t *c) {
  while (c->ev_head && !c->closing && c->wrapper) {
    event_t *e = c->ev_head;
    c->ev_head = e->next;
    if (!c->ev_head) c->ev_tail = NULL;
    JS_SCOPE_BEGIN
    napi_value argv[3];
    argv[0] = js_wrapper(c);
    argv[1] = js_num(e->type);
    void *data;
    napi_create_buffer_copy(g_env, e->len, e->body, &data, &argv[2]);
    call_js(CB_EVENT, 3, argv);
    JS_SCOPE_END
    free(e);
  }
}

static int is_reported(uint8_t t) { return t == 'Z' || t == 'S' || t == 'E'; }

/* Server messages that end an answer to an extended-protocol message, a Sync, or report its failure. */
static int ends_answer(uint8_t t) {
  return t == '1' || t == '2' || t == '3' || t == 'T' || t == 'n' || t == 'C' || t == 'I' || t == 's' || t == 'Z' || t == 'E';
}

/* ---------------------------------------------------------------- link accounting */

/* Writes the link's state into the slab for the call that follows, and resets its counters (they are reported once). */
static void fill_slab(conn_t *cl, double released) {
  double *s = g_slab;
  uint64_t now = uv_now(g_loop);
  s[S_RELEASED] = released;
  s[S_TXSTATUS] = cl->peer ? cl->peer->txstatus : cl->txstatus;
  s[S_PENDING] = (double)cl->pending;
  s[S_UNSYNCED] = cl->unsynced;
  s[S_BYTES_IN] = cl->bytes_in;
  s[S_BYTES_OUT] = cl->bytes_out;
  s[S_QUERIES] = cl->queries;
  s[S_PARSES] = cl->parses;
  s[S_BINDS] = cl->binds;
  s[S_QUERY_US] = cl->query_us;
  s[S_QUERY_AGE] = cl->query_since >= 0 ? (double)(now - (uint64_t)cl->query_since) : -1;
  s[S_IDLE_AGE] = cl->idle_since >= 0 ? (double)(now - (uint64_t)cl->idle_since) : -1;
  s[S_TX_AGE] = cl->tx_since >= 0 ? (double)(now - (uint64_t)cl->tx_since) : -1;
  s[S_CLIENT_BOUNDARY] = framer_at_boundary(&cl->fr);
  cl->bytes_in = cl->bytes_out = cl->queries = cl->parses = cl->binds = cl->query_us = 0;
}

static void unlink_pair(conn_t *cl) {
  conn_t *sv = cl->peer;
  cl->mode = MODE_JS;
  cl->peer = NULL;
  if (sv) {
    sv->mode = MODE_JS;
    sv->peer = NULL;
  }
}

static void deliver_js(conn_t *c, const uint8_t *p, size_t n);

/* The link ends another way (JavaScript takes it back, a side closed): held bytes are dropped. */
static void drop_hold(conn_t *cl) {
  if (!cl->holding) return;
  free(cl->held);
  cl->held = NULL;
  cl->heldlen = 0;
  cl->holding = 0;
  update_reading(cl);
}

/* The link ends here: its state to the slab, both sides back to js mode, and JavaScript told why. */
static void end_link(conn_t *cl, int why) {
  fill_slab(cl, 0);
  unlink_pair(cl);
  JS_SCOPE_BEGIN
  napi_value argv[2] = { js_wrapper(cl), js_num(why) };
  call_js(CB_UNLINKED, 2, argv);
  JS_SCOPE_END
}

static void client_message(conn_t *cl, uint8_t t) {
  uint64_t now = uv_now(g_loop);
  if (!cl->in_tx) {
    cl->in_tx = 1;
    cl->tx_since = (int64_t)now;
  }
  cl->idle_since = -1;
  switch (t) {
    case 'Q': case 'F': case 'S':
      if (cl->pending <= 0) {
        cl->query_t0 = uv_hrtime();
        cl->query_since = (int64_t)now;
      }
      cl->pending++;
      cl->queries++;
      if (t == 'S') cl->unsynced = 0;
      break;
    case 'P': cl->parses++; cl->unsynced = 1; break;
    case 'B': cl->binds++; cl->unsynced = 1; break;
    case 'D': case 'E': case 'C': case 'H': cl->unsynced = 1; break;
    default: break;
  }
}

/* Client bytes while linked: forwarded in C, cut where JavaScript must take over. */
static void client_linked(conn_t *cl, const uint8_t *p, size_t n) {
  conn_t *sv = cl->peer;
  framer_t *f = &cl->fr;
  size_t pos = 0, fwd = 0, a, b;
  int stop = 0;
  int64_t stop_at = 0;
  framer_chunk(f);
  cl->bytes_in += (double)n;
  for (;;) {
    int ev = framer_step(f, p, n, &pos, &a, &b);
    if (ev == FR_MORE) break;
    if (ev == FR_HEADER) {
      if (f->type == 'X' || (cl->subscribed && (cl->sub[f->type >> 3] & (1u << (f->type & 7))))) {
        stop = f->type == 'X' ? U_TERMINATE : U_SUBSCRIBED;
        stop_at = f->start;
        break;
      }
      if (f->start < 0) {
        forward(cl, sv, f->hdr, 5); /* a header held back from the last chunk */
        fwd = pos;
      }
      client_message(cl, f->type);
    } else if (ev == FR_BAD) {
      stop = U_BAD_MESSAGE;
      stop_at = f->start;
      f->failed = 0; /* JavaScript frames it again and refuses it */
      f->hlen = 0;
      break;
    }
  }
  if (!stop) {
    size_t cut = n;
    if (f->hlen > 0) cut = f->start >= (int64_t)fwd ? (size_t)f->start : fwd;
    forward(cl, sv, p + fwd, cut - fwd);
    return;
  }
  size_t at = stop_at >= 0 ? (size_t)stop_at : 0;
  if (at > fwd) forward(cl, sv, p + fwd, at - fwd);
  cl->bytes_in -= (double)(n - at);
  if (stop != U_BAD_MESSAGE && cl->subscribed && (cl->pending > 0 || !framer_at_boundary(&sv->fr))) {
    /* The framed path starts between answers: hold the rest until the server owes nothing. */
    size_t hdr = stop_at < 0 ? 5 : 0, from = stop_at < 0 ? pos : at;
    cl->held = malloc(hdr + (n - from));
    if (!cl->held) abort();
    if (hdr) memcpy(cl->held, f->hdr, 5);
    memcpy(cl->held + hdr, p + from, n - from);
    cl->heldlen = hdr + (n - from);
    cl->held_reason = (uint8_t)stop;
    cl->holding = 1;
    framer_init(f, f->max); /* the held bytes begin at a message: the client is at a boundary */
    update_reading(cl);
    return;
  }
  end_link(cl, stop);
  if (cl->closing) return;
  if (stop_at < 0) {
    /* The message began in an earlier chunk: its header is held in the framer. */
    uint8_t *tmp = malloc(5 + (n - pos));
    if (!tmp) abort();
    memcpy(tmp, f->hdr, 5);
    memcpy(tmp + 5, p + pos, n - pos);
    deliver_js(cl, tmp, 5 + (n - pos));
    free(tmp);
  } else {
    deliver_js(cl, p + at, n - at);
  }
}

/* The server owes nothing now: the link ends (unless a release ended it) and JavaScript gets the held bytes. */
static void finish_hold(conn_t *cl) {
  uint8_t *h = cl->held;
  size_t n = cl->heldlen;
  int why = cl->held_reason;
  cl->held = NULL;
  cl->heldlen = 0;
  cl->holding = 0;
  if (cl->mode == MODE_LINKED) end_link(cl, why);
  if (!cl->closing) {
    update_reading(cl);
    deliver_js(cl, h, n);
  }
  free(h);
}

/* Server bytes, linked or not: framed here (the one framing core for server connections). */
static void server_chunk(conn_t *sv, const uint8_t *p, size_t n) {
  conn_t *cl = sv->mode == MODE_LINKED ? sv->peer : NULL;
  framer_t *f = &sv->fr;
  size_t pos = 0, a, b, cut = n;
  int ready = 0, idle = 0, release = 0;
  framer_chunk(f);
  for (;;) {
    int ev = framer_step(f, p, n, &pos, &a, &b);
    if (ev == FR_MORE) break;
    if (ev == FR_HEADER) {
      if (is_reported(f->type)) capture_begin(sv);
      else sv->capturing = 0;
      if (cl && cl->wcap && ends_answer(f->type)) {
        if (cl->wlen < cl->wcap) cl->wlog[cl->wlen++] = f->type;
        else cl->woverflow = 1;
      }
    } else if (ev == FR_BODY) {
      if (sv->capturing) capture_add(sv, p + a, b - a);
    } else if (ev == FR_END) {
      if (!sv->capturing) continue;
      sv->capturing = 0;
      if (f->type != 'Z') {
        capture_event(sv);
        continue;
      }
      sv->txstatus = sv->caplen > 0 ? sv->cap[0] : 'I';
      ready++;
      if (cl) {
        if (--cl->pending <= 0) {
          cl->pending = 0;
          if (cl->query_since >= 0) cl->query_us += (double)((uv_hrtime() - cl->query_t0) / 1000);
          cl->query_since = -1;
          cl->idle_since = (int64_t)uv_now(g_loop);
          if (sv->txstatus == 'I') cl->in_tx = 0, cl->tx_since = -1;
          idle = 1;
          if (cl->txmode && sv->txstatus == 'I' && !cl->unsynced && framer_at_boundary(&cl->fr)) {
            release = 1;
            cut = b;
            break;
          }
        }
      }
    } else if (ev == FR_BAD) {
      if (cl) forward(sv, cl, p, f->start > 0 ? (size_t)f->start : 0);
      conn_close(sv, "server sent a malformed message (bad length)");
      return;
    }
  }
  if (cl) {
    cl->bytes_out += (double)cut;
    forward(sv, cl, p, cut);
    flush_events(sv);
    if (sv->closing || cl->closing || sv->peer != cl) return;
    if (idle) {
      if (release) {
        unlink_pair(cl);
        cl->armed = cl->rearm;
      }
      fill_slab(cl, release);
      JS_SCOPE_BEGIN
      napi_value argv[1] = { js_wrapper(cl) };
      call_js(CB_IDLE, 1, argv);
      JS_SCOPE_END
    }
    if (cl->holding && cl->pending <= 0 && framer_at_boundary(&sv->fr) && !cl->closing) finish_hold(cl);
    if (release && cut < n && !sv->closing) server_chunk(sv, p + cut, n - cut);
    return;
  }
  flush_events(sv);
  if (sv->closing || !sv->wrapper) return;
  JS_SCOPE_BEGIN
  napi_value argv[4];
  argv[0] = js_wrapper(sv);
  void *data;
  napi_create_buffer_copy(g_env, n, p, &data, &argv[1]);
  argv[2] = js_num(ready);
  argv[3] = js_num(sv->txstatus);
  call_js(CB_DATA, 4, argv);
  JS_SCOPE_END
}

static void deliver_js(conn_t *c, const uint8_t *p, size_t n) {
  if (n == 0 || c->closing || !c->wrapper) return;
  JS_SCOPE_BEGIN
  napi_value argv[2];
  argv[0] = js_wrapper(c);
  void *data;
  napi_create_buffer_copy(g_env, n, p, &data, &argv[1]);
  call_js(CB_DATA, 2, argv);
  JS_SCOPE_END
}

/*
 * The bytes an armed client sent are plain for a link when they hold no Terminate and no
 * malformed header: the link forwards them with no call into JavaScript. Anything else goes to
 * JavaScript as data, which frames, answers or refuses it.
 */
static int plain_for_link(const framer_t *like, const uint8_t *p, size_t n) {
  framer_t f;
  framer_init(&f, like->max);
  size_t pos = 0, a, b;
  framer_chunk(&f);
  for (;;) {
    int ev = framer_step(&f, p, n, &pos, &a, &b);
    if (ev == FR_MORE) return 1;
    if (ev == FR_BAD || (ev == FR_HEADER && f.type == 'X')) return 0;
  }
}

/* An armed client's first bytes: held (reads stopped) until JavaScript links it, which it is asked to. */
static void client_armed(conn_t *cl, const uint8_t *p, size_t n) {
  cl->armed = 0;
  if (!plain_for_link(&cl->fr, p, n)) {
    deliver_js(cl, p, n);
    return;
  }
  cl->held = malloc(n);
  if (!cl->held) abort();
  memcpy(cl->held, p, n);
  cl->heldlen = n;
  cl->arm_held = 1;
  if (!cl->wrapper) return;
  JS_SCOPE_BEGIN
  napi_value argv[1] = { js_wrapper(cl) };
  call_js(CB_WANT, 1, argv);
  JS_SCOPE_END
}

/* Bytes held while armed, taken back: `link` forwards them, otherwise JavaScript gets them (takeHeld). */
static uint8_t *take_armed(conn_t *cl, size_t *n) {
  if (!cl->arm_held) return NULL;
  uint8_t *h = cl->held;
  *n = cl->heldlen;
  cl->held = NULL;
  cl->heldlen = 0;
  cl->arm_held = 0;
  return h;
}

/* More bytes before the link: JavaScript frames and queues them all, as it does unarmed. */
static void client_more(conn_t *cl, const uint8_t *p, size_t n) {
  size_t held;
  uint8_t *h = take_armed(cl, &held);
  uint8_t *all = realloc(h, held + n);
  if (!all) abort();
  memcpy(all + held, p, n);
  deliver_js(cl, all, held + n);
  free(all);
}

static void process_chunk(conn_t *c, const uint8_t *p, size_t n) {
  if (c->kind == KIND_SERVER) server_chunk(c, p, n);
  else if (c->mode == MODE_LINKED) client_linked(c, p, n);
  else if (c->arm_held) client_more(c, p, n);
  else if (c->armed) client_armed(c, p, n);
  else deliver_js(c, p, n);
}

/* ---------------------------------------------------------------- N-API glue */

#define ARGS(n) size_t argc = n; napi_value argv[n]; napi_get_cb_info(env, info, &argc, argv, NULL, NULL);

static double arg_num(napi_env env, napi_value v) {
  double d = -1;
  napi_get_value_double(env, v, &d);
  return d;
}

static conn_t *arg_conn(napi_env env, napi_value v) { return conn_from_id(arg_num(env, v)); }

static napi_value ret_bool(napi_env env, int b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

static napi_value ret_num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static napi_value throw_uv(napi_env env, const char *what, int r) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, uv_strerror(r));
  napi_throw_error(env, uv_err_name(r), msg);
  return NULL;
}

/* init(callbacks: Function[NCB], slab: Float64Array) */
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(2)
  g_env = env;
  napi_get_uv_event_loop(env, &g_loop);
  for (uint32_t i = 0; i < NCB; i++) {
    napi_value fn;
    napi_get_element(env, argv[0], i, &fn);
    if (g_cb[i]) napi_delete_reference(env, g_cb[i]);
    napi_create_reference(env, fn, 1, &g_cb[i]);
  }
  napi_typedarray_type t;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(env, argv[1], &t, &len, &data, &ab, &off);
  if (t != napi_float64_array || len < SLAB_LEN) {
    napi_throw_type_error(env, NULL, "slab must be a Float64Array of 16");
    return NULL;
  }
  g_slab = (double *)data;
  if (g_slab_ref) napi_delete_reference(env, g_slab_ref);
  napi_create_reference(env, argv[1], 1, &g_slab_ref);
  if (!g_async) {
    napi_value res, name;
    napi_create_object(env, &res);
    napi_create_reference(env, res, 1, &g_resource);
    napi_create_string_utf8(env, "weir:io", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, res, name, &g_async);
  }
  return NULL;
}

static void on_connection(uv_stream_t *server, int status) {
  listener_t *l = (listener_t *)server->data;
  if (status < 0 || l->closing) return;
  conn_t *c = slot_alloc();
  uv_tcp_init(g_loop, &c->tcp);
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    c->closing = 1;
    return;
  }
  JS_SCOPE_BEGIN
  napi_value argv[2] = { js_num(l->id), js_num(conn_id(c)) };
  call_js(CB_ACCEPT, 2, argv);
  JS_SCOPE_END
}

static int parse_addr(napi_env env, napi_value host, int port, struct sockaddr_storage *ss) {
  char ip[64];
  size_t n;
  napi_get_value_string_utf8(env, host, ip, sizeof ip, &n);
  if (uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) == 0) return 0;
  return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
}

/*
 * A TCP socket bound to ss, not yet listening: SO_REUSEADDR (as libuv's bind) and, when asked,
 * SO_REUSEPORT, set before bind so that several processes can share the address. -errno on failure.
 */
static int bound_socket(const struct sockaddr_storage *ss, int reuseport) {
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int on = 1;
  socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
      bind(fd, (const struct sockaddr *)ss, len) != 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

static int arg_flag(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b ? 1 : 0;
}

/* bound_socket for JavaScript's (ip, port, reuseport) arguments: the fd, or -1 with an exception pending. */
static int js_bound_socket(napi_env env, napi_value ip, napi_value port, napi_value reuseport, const char *what) {
  struct sockaddr_storage ss;
  if (parse_addr(env, ip, (int)arg_num(env, port), &ss) != 0) {
    napi_throw_error(env, "WEIR_E_LISTEN", "not an IP address");
    return -1;
  }
  int fd = bound_socket(&ss, arg_flag(env, reuseport));
  if (fd < 0) {
    throw_uv(env, what, fd);
    return -1;
  }
  return fd;
}

/* listen(ip, port, backlog, id, reuseport?) -> { handle, port } */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(5)
  int fd = js_bound_socket(env, argv[0], argv[1], argv[4], "listen");
  if (fd < 0) return NULL;
  listener_t *l = calloc(1, sizeof(*l));
  if (!l) abort();
  l->id = (uint32_t)arg_num(env, argv[3]);
  uv_tcp_init(g_loop, &l->tcp);
  l->tcp.data = l;
  int r = uv_tcp_open(&l->tcp, fd);
  if (r != 0) close(fd);
  if (r == 0) r = uv_listen((uv_stream_t *)&l->tcp, (int)arg_num(env, argv[2]), on_connection);
  if (r != 0) {
    uv_close((uv_handle_t *)&l->tcp, (uv_close_cb)free);
    return throw_uv(env, "listen", r);
  }
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen);
  int port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port) : ntohs(((struct sockaddr_in *)&bound)->sin_port);
  napi_value obj, ext, pv;
  napi_create_object(env, &obj);
  napi_create_external(env, l, NULL, NULL, &ext);
  napi_set_named_property(env, obj, "handle", ext);
  napi_create_int32(env, port, &pv);
  napi_set_named_property(env, obj, "port", pv);
  return obj;
}

/* bindSocket(ip, port, reuseport) -> fd: a bound TCP socket for node:net to listen on (server.listen({ fd })). */
static napi_value js_bind_socket(napi_env env, napi_callback_info info) {
  ARGS(3)
  int fd = js_bound_socket(env, argv[0], argv[1], argv[2], "bind");
  return fd < 0 ? NULL : ret_num(env, fd);
}

/*
 * Connections already in a listening socket's accept queue, taken with non-blocking accepts until
 * none is left: what a listener closing right after this would otherwise reset. fds, caller owns.
 */
static napi_value drain_accept_queue(napi_env env, int lfd, listener_t *l) {
  napi_value out;
  napi_create_array(env, &out);
  uint32_t k = 0;
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break; /* EAGAIN: the queue is empty (or the socket is not listening) */
    }
    if (l == NULL) {
      napi_set_element(env, out, k++, ret_num(env, fd));
      continue;
    }
    conn_t *c = slot_alloc();
    uv_tcp_init(g_loop, &c->tcp);
    if (uv_tcp_open(&c->tcp, fd) != 0) {
      close(fd);
      c->closing = 1;
      uv_close((uv_handle_t *)&c->tcp, on_closed);
      continue;
    }
    napi_set_element(env, out, k++, ret_num(env, conn_id(c)));
  }
  return out;
}

/*
 * listenClose(handle, drain?) -> [id, …]: close the listener. With drain, the connections in its
 * accept queue are accepted first (as the accept callback's ids, returned rather than called
 * back) and the socket closes in the same call, so none is reset.
 */
static napi_value js_listen_close(napi_env env, napi_callback_info info) {
  ARGS(2)
  listener_t *l;
  napi_get_value_external(env, argv[0], (void **)&l);
  napi_value out = NULL;
  if (l && !l->closing) {
    if (arg_flag(env, argv[1])) {
      uv_os_fd_t lfd;
      if (uv_fileno((uv_handle_t *)&l->tcp, &lfd) == 0) out = drain_accept_queue(env, lfd, l);
    }
    l->closing = 1;
    uv_close((uv_handle_t *)&l->tcp, (uv_close_cb)free);
  }
  if (out == NULL) napi_create_array(env, &out);
  return out;
}

/*
 * stopListening(fd) -> fds: for a listening socket node:net owns. Accept what is queued (see
 * drain_accept_queue), then shutdown(SHUT_RD): the socket stops listening and leaves the port
 * (and its SO_REUSEPORT group) in the same call, with the descriptor still node:net's to close.
 */
static napi_value js_stop_listening(napi_env env, napi_callback_info info) {
  ARGS(1)
  int fd = (int)arg_num(env, argv[0]);
  napi_value out = drain_accept_queue(env, fd, NULL);
  shutdown(fd, SHUT_RD);
  return out;
}

static void on_connect(uv_connect_t *req, int status) {
  conn_t *c = (conn_t *)req->data;
  free(req);
  c->connecting = 0;
  int dupfd = -1;
  if (status == 0 && !c->closing) {
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t *)&c->tcp, &fd);
    dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0) status = UV_EMFILE;
  }
  JS_SCOPE_BEGIN
  napi_value argv[3] = { js_num(conn_id(c)), js_num(status), js_num(dupfd) };
  if (status != 0) napi_create_string_utf8(g_env, uv_strerror(status), NAPI_AUTO_LENGTH, &argv[1]);
  call_js(CB_CONNECTED, 3, argv);
  JS_SCOPE_END
  if (status != 0) conn_close(c, NULL);
}

/* connect(ip, port) -> id; CB_CONNECTED(id, 0 | message, fd) follows */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(2)
  struct sockaddr_storage ss;
  if (parse_addr(env, argv[0], (int)arg_num(env, argv[1]), &ss) != 0) {
    napi_throw_error(env, "WEIR_E_SERVER_CONNECT", "not an IP address");
    return NULL;
  }
  conn_t *c = slot_alloc();
  uv_tcp_init(g_loop, &c->tcp);
  c->connecting = 1;
  uv_connect_t *req = malloc(sizeof(*req));
  if (!req) abort();
  req->data = c;
  int r = uv_tcp_connect(req, &c->tcp, (struct sockaddr *)&ss, on_connect);
  if (r != 0) {
    free(req);
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    return throw_uv(env, "connect", r);
  }
  return ret_num(env, conn_id(c));
}

/* adopt(id, wrapper, kind, maxMessage): the connection's bytes now come here (js mode). */
static napi_value js_adopt(napi_env env, napi_callback_info info) {
  ARGS(4)
  conn_t *c = arg_conn(env, argv[0]);
  if (!c || c->closing) return ret_bool(env, 0);
  if (c->wrapper) napi_delete_reference(env, c->wrapper);
  napi_create_reference(env, argv[1], 1, &c->wrapper);
  c->kind = (uint8_t)arg_num(env, argv[2]);
  framer_init(&c->fr, (uint32_t)arg_num(env, argv[3]));
  uv_tcp_nodelay(&c->tcp, 1);
  uv_tcp_keepalive(&c->tcp, 1, 30);
  update_reading(c);
  return ret_bool(env, 1);
}

/*
 * detach(id) -> fd: a connection JavaScript has not linked (a client logging in that asked for
 * TLS) leaves the plane for node:net. Its descriptor is duplicated for the caller, and the
 * plane's handle is closed without a close callback. -errno when it cannot be (closing, linked,
 * or dup failed), the connection then untouched.
 */
static napi_value js_detach(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *c = arg_conn(env, argv[0]);
  if (!c || c->closing || c->mode != MODE_JS || c->peer || c->queued || c->armed || c->arm_held) return ret_num(env, -EINVAL);
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) return ret_num(env, -EBADF);
  int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) return ret_num(env, -errno);
  if (c->wrapper) napi_delete_reference(env, c->wrapper);
  c->wrapper = NULL;
  conn_close(c, NULL);
  return ret_num(env, dupfd);
}

/* One end of a TCP connection as [address, port]; [] when the socket has none (closed). */
static void push_name(napi_env env, napi_value out, uint32_t at, const struct sockaddr_storage *ss, int ok) {
  char ip[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (ok == 0 && ss->ss_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *)ss, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
  } else if (ok == 0 && ss->ss_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *)ss, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  } else {
    return;
  }
  napi_value v;
  napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, at, v);
  napi_set_element(env, out, at + 1, ret_num(env, port));
}

/* peer(id) -> [remoteAddress, remotePort, localAddress, localPort] (each pair missing if unknown). */
static napi_value js_peer(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *c = arg_conn(env, argv[0]);
  napi_value out;
  napi_create_array(env, &out);
  if (!c || c->closing) return out;
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int ok = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);
  push_name(env, out, 0, &ss, ok);
  len = sizeof ss;
  ok = uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len);
  push_name(env, out, 2, &ss, ok);
  return out;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  ARGS(2)
  conn_t *c = arg_conn(env, argv[0]);
  if (!c) return ret_bool(env, 1);
  void *data;
  size_t len;
  napi_get_buffer_info(env, argv[1], &data, &len);
  int all = conn_write(c, data, len);
  if (!all) c->want_drain = 1;
  return ret_bool(env, all);
}

static napi_value js_end(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *c = arg_conn(env, argv[0]);
  if (c) conn_end(c);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *c = arg_conn(env, argv[0]);
  if (c) conn_close(c, NULL);
  return NULL;
}

static napi_value js_pause(napi_env env, napi_callback_info info) {
  ARGS(2)
  conn_t *c = arg_conn(env, argv[0]);
  if (c) {
    bool b = false;
    napi_get_value_bool(env, argv[1], &b);
    c->js_paused = b;
    update_reading(c);
  }
  return NULL;
}

static napi_value js_queued(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *c = arg_conn(env, argv[0]);
  return ret_num(env, c ? (double)c->queued : 0);
}

/*
 * link(client, server, flags, pending, unsynced, inTx, subscribed?, watch?): forward in C from
 * now on. flags: L_TXMODE (release at idle), L_REARM (arm the client when the link releases).
 * Bytes the client sent while armed are forwarded now, counted as the link's.
 */
static napi_value js_link(napi_env env, napi_callback_info info) {
  ARGS(8)
  conn_t *cl = arg_conn(env, argv[0]);
  conn_t *sv = arg_conn(env, argv[1]);
  if (!cl || !sv || cl->closing || sv->closing || cl->mode != MODE_JS || sv->mode != MODE_JS ||
      cl->kind != KIND_CLIENT || sv->kind != KIND_SERVER || !framer_at_boundary(&sv->fr)) {
    return ret_bool(env, 0);
  }
  bool b;
  int flags = (int)arg_num(env, argv[2]);
  cl->txmode = (flags & L_TXMODE) != 0;
  cl->rearm = (flags & L_REARM) != 0;
  cl->armed = 0;
  cl->pending = (int64_t)arg_num(env, argv[3]);
  napi_get_value_bool(env, argv[4], &b);
  cl->unsynced = b;
  napi_get_value_bool(env, argv[5], &b);
  cl->in_tx = b;
  uint64_t now = uv_now(g_loop);
  cl->tx_since = b ? (int64_t)now : -1;
  if (cl->pending > 0) {
    cl->query_t0 = uv_hrtime();
    cl->query_since = (int64_t)now;
    cl->idle_since = -1;
  } else {
    cl->query_since = -1;
    cl->idle_since = (int64_t)now;
  }
  cl->bytes_in = cl->bytes_out = cl->queries = cl->parses = cl->binds = cl->query_us = 0;
  framer_init(&cl->fr, cl->fr.max);
  /* Once per transaction on hooked sessions: the mask and the log reuse what the last link allocated. */
  bool isbuf = false;
  if (argc > 6) napi_is_buffer(env, argv[6], &isbuf);
  cl->subscribed = isbuf;
  if (isbuf) {
    void *mask;
    size_t mlen;
    napi_get_buffer_info(env, argv[6], &mask, &mlen);
    if (!cl->sub && !(cl->sub = malloc(32))) abort();
    memset(cl->sub, 0, 32);
    memcpy(cl->sub, mask, mlen < 32 ? mlen : 32);
  }
  double watch = argc > 7 ? arg_num(env, argv[7]) : 0;
  uint32_t want = watch <= 0 ? 0 : watch > 65536 ? 65536 : (uint32_t)watch;
  if (want > cl->wsize) {
    free(cl->wlog);
    if (!(cl->wlog = malloc(want))) abort();
    cl->wsize = want;
  }
  cl->wcap = want;
  cl->wlen = 0;
  cl->woverflow = 0;
  cl->mode = sv->mode = MODE_LINKED;
  cl->peer = sv;
  sv->peer = cl;
  size_t n;
  uint8_t *h = take_armed(cl, &n);
  if (h) {
    client_linked(cl, h, n);
    free(h);
  }
  return ret_bool(env, 1);
}

/* arm(client, on): see conn_t.armed. Off: bytes held while armed come back as data (takeHeld). */
static napi_value js_arm(napi_env env, napi_callback_info info) {
  ARGS(2)
  conn_t *cl = arg_conn(env, argv[0]);
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  if (!cl || cl->closing || cl->kind != KIND_CLIENT || cl->mode != MODE_JS) return ret_bool(env, 0);
  cl->armed = on;
  return ret_bool(env, 1);
}

/* takeHeld(client) -> Buffer | null: the bytes held while armed (reads go on in js mode). */
static napi_value js_take_held(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *cl = arg_conn(env, argv[0]);
  napi_value v;
  size_t n = 0;
  uint8_t *h = cl ? take_armed(cl, &n) : NULL;
  if (!h) {
    napi_get_null(env, &v);
    return v;
  }
  void *data;
  napi_create_buffer_copy(env, n, h, &data, &v);
  free(h);
  return v;
}

/* The link's state into the slab (its counters handed over and reset); `end`: back to js mode. */
static napi_value link_report(napi_env env, napi_callback_info info, int end) {
  ARGS(1)
  conn_t *cl = arg_conn(env, argv[0]);
  if (!cl || cl->mode != MODE_LINKED) return ret_bool(env, 0);
  fill_slab(cl, 0);
  if (end) {
    unlink_pair(cl);
    drop_hold(cl);
  }
  return ret_bool(env, 1);
}

/* unlink(client) */
static napi_value js_unlink(napi_env env, napi_callback_info info) { return link_report(env, info, 1); }

/* peek(client): the link goes on */
static napi_value js_peek(napi_env env, napi_callback_info info) { return link_report(env, info, 0); }

/* linkLog(client): the answer-ending server message types of the last watched link (a copy), or null when more came than it could hold. */
static napi_value js_link_log(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *cl = arg_conn(env, argv[0]);
  napi_value v;
  if (!cl || !cl->wcap || cl->woverflow) {
    napi_get_null(env, &v);
    return v;
  }
  void *data;
  napi_create_buffer_copy(env, cl->wlen, cl->wlog, &data, &v);
  cl->wlen = 0;
  return v;
}

static napi_value js_at_boundary(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn_t *c = arg_conn(env, argv[0]);
  return ret_bool(env, c != NULL && framer_at_boundary(&c->fr));
}

/*
 * frames(chunks: Buffer[], max) -> number[] of [type, length] pairs, or a number (the chunk index
 * at which framing failed, negated minus one). For the fuzz tests: the same core as the data path.
 */
static napi_value js_frames(napi_env env, napi_callback_info info) {
  ARGS(2)
  framer_t f;
  framer_init(&f, (uint32_t)arg_num(env, argv[1]));
  uint32_t nchunks;
  napi_get_array_length(env, argv[0], &nchunks);
  napi_value out;
  napi_create_array(env, &out);
  uint32_t k = 0;
  uint64_t body = 0;
  for (uint32_t i = 0; i < nchunks; i++) {
    napi_value ch;
    napi_get_element(env, argv[0], i, &ch);
    void *data;
    size_t len;
    napi_get_buffer_info(env, ch, &data, &len);
    size_t pos = 0, a, b;
    framer_chunk(&f);
    for (;;) {
      int ev = framer_step(&f, data, len, &pos, &a, &b);
      if (ev == FR_MORE) break;
      if (ev == FR_BAD) return ret_num(env, -(double)i - 1);
      if (ev == FR_HEADER) body = 0;
      if (ev == FR_BODY) body += b - a;
      if (ev == FR_END) {
        if (body != f.len - 4) return ret_num(env, -1e9); /* the core lost bytes: a bug */
        napi_set_element(env, out, k++, ret_num(env, f.type));
        napi_set_element(env, out, k++, ret_num(env, f.len));
      }
    }
  }
  napi_value boundary = ret_bool(env, framer_at_boundary(&f));
  napi_set_named_property(env, out, "atBoundary", boundary);
  return out;
}

#define EXPORT(name, fn) do { napi_value v; napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &v); napi_set_named_property(env, exports, name, v); } while (0)

static napi_value init_module(napi_env env, napi_value exports) {
  EXPORT("init", js_init);
  EXPORT("listen", js_listen);
  EXPORT("listenClose", js_listen_close);
  EXPORT("bindSocket", js_bind_socket);
  EXPORT("stopListening", js_stop_listening);
  EXPORT("connect", js_connect);
  EXPORT("adopt", js_adopt);
  EXPORT("detach", js_detach);
  EXPORT("peer", js_peer);
  EXPORT("write", js_write);
  EXPORT("end", js_end);
  EXPORT("close", js_close);
  EXPORT("pause", js_pause);
  EXPORT("queued", js_queued);
  EXPORT("link", js_link);
  EXPORT("unlink", js_unlink);
  EXPORT("peek", js_peek);
  EXPORT("atBoundary", js_at_boundary);
  EXPORT("linkLog", js_link_log);
  EXPORT("arm", js_arm);
  EXPORT("takeHeld", js_take_held);
  EXPORT("frames", js_frames);
  return exports;
}

NAPI_MODULE(weir_io, init_module)
