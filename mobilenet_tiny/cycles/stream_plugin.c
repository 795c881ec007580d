/*
 * A QEMU TCG plugin that records the executed instruction stream of one code window (an inference) so that
 * mobilenet_tiny/cycles can turn it into a cycle estimate. It writes, to the file named by out=PATH:
 *   T id vaddr n          a translated block: its address and instruction count, then per instruction
 *   I vaddr size hex      its address, length in bytes and bytes (as QEMU translated them)
 *   W k                   window k begins (the block at begin= executed)
 *   S j                   segment j of the window ends (at a block at split=, or at the window's end), then
 *   C id execs seq        per block executed in the segment: executions, and entries from the instruction
 *                         just before it (falling through)
 *   X id to count         per block, every other block it went on to (a taken branch) and how often
 *   E k                   window k ends (a block at one of the end= addresses executed)
 * Nothing is decoded or timed here: the plugin only counts what QEMU executes.
 *
 * QEMU's plugin header is not packaged by Debian, so the few entry points used are declared below, as
 * plugin API version 1 (QEMU 7.2) defines them; QEMU checks qemu_plugin_version when it loads the plugin.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, void (*cb)(unsigned int vcpu, void *data),
                                          enum qemu_plugin_cb_flags flags, void *data);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t id, void *data), void *data);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

EXPORT int qemu_plugin_version = 1;

struct block;
typedef struct {
    struct block *to;
    uint64_t count;
} edge;

typedef struct block {
    uint64_t vaddr, next; /* next: the address after its last instruction */
    uint32_t id;
    uint64_t execs, seq;        /* in the current segment */
    edge *edges;                /* taken exits in the current segment */
    int n_edges, edge_capacity; /* (a block has one or two successors, a return a few more) */
    struct block *touched_next; /* list of the blocks executed in the current segment */
    bool touched;
} block;

#define MAX_ENDS 16
static FILE *out;
static uint64_t begin_addr, split_addr, end_addrs[MAX_ENDS];
static int n_ends, has_split;
static uint32_t next_id;
static int counting, window, segment;
static block *prev, *touched_head;

static int is_end(uint64_t vaddr)
{
    for (int i = 0; i < n_ends; ++i) {
        if (end_addrs[i] == vaddr) {
            return 1;
        }
    }
    return 0;
}

static void close_segment(void)
{
    fprintf(out, "S %d\n", segment++);
    for (block *b = touched_head; b != NULL;) {
        block *n = b->touched_next;
        fprintf(out, "C %u %llu %llu\n", b->id, (unsigned long long)b->execs, (unsigned long long)b->seq);
        for (int i = 0; i < b->n_edges; ++i) {
            fprintf(out, "X %u %u %llu\n", b->id, b->edges[i].to->id, (unsigned long long)b->edges[i].count);
        }
        b->n_edges = 0;
        b->execs = b->seq = 0;
        b->touched = false;
        b->touched_next = NULL;
        b = n;
    }
    touched_head = NULL;
}

static void touch(block *b)
{
    if (!b->touched) {
        b->touched = true;
        b->touched_next = touched_head;
        touched_head = b;
    }
}

static void add_edge(block *from, block *to)
{
    for (int i = 0; i < from->n_edges; ++i) {
        if (from->edges[i].to == to) {
            from->edges[i].count++;
            return;
        }
    }
    if (from->n_edges == from->edge_capacity) {
        const int capacity = from->edge_capacity ? 2 * from->edge_capacity : 2;
        edge *grown = realloc(from->edges, (size_t)capacity * sizeof(edge));
        if (grown == NULL) {
            return;
        }
        from->edges = grown;
        from->edge_capacity = capacity;
    }
    from->edges[from->n_edges++] = (edge){to, 1};
    touch(from);
}

/* The transition from the block executed before to b. */
static void follow(block *b)
{
    if (prev != NULL) {
        if (prev->next == b->vaddr) {
            b->seq++;
        } else {
            add_edge(prev, b);
        }
    }
}

static void on_exec(unsigned int vcpu, void *data)
{
    block *b = data;
    (void)vcpu;
    if (!counting) {
        if (b->vaddr != begin_addr) {
            return;
        }
        counting = 1;
        segment = 0;
        prev = NULL;
        fprintf(out, "W %d\n", window);
    } else if (is_end(b->vaddr)) {
        follow(b); /* the return's exit is an edge to a block outside the window (counted, never executed) */
        close_segment();
        fprintf(out, "E %d\n", window++);
        fflush(out);
        counting = 0;
        prev = NULL;
        return;
    } else if (has_split && b->vaddr == split_addr) {
        const int seq_entry = prev != NULL && prev->next == b->vaddr;
        if (prev != NULL && !seq_entry) {
            add_edge(prev, b); /* the call into the split point belongs to the segment it ends */
        }
        prev = NULL;
        close_segment();
        b->seq += seq_entry;
    }
    follow(b);
    b->execs++;
    touch(b);
    prev = b;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) {
        return;
    }
    block *b = calloc(1, sizeof(block));
    if (b == NULL) {
        return;
    }
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->id = next_id++;
    fprintf(out, "T %u %llx %zu\n", b->id, (unsigned long long)b->vaddr, n);
    for (size_t i = 0; i < n; ++i) {
        const struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const size_t size = qemu_plugin_insn_size(insn);
        const uint8_t *bytes = qemu_plugin_insn_data(insn);
        const uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        fprintf(out, "I %llx %zu ", (unsigned long long)vaddr, size);
        for (size_t k = 0; k < size; ++k) {
            fprintf(out, "%02x", bytes[k]);
        }
        fputc('\n', out);
        b->next = vaddr + size;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void on_qemu_exit(qemu_plugin_id_t id, void *data)
{
    (void)id;
    (void)data;
    if (out != NULL) {
        fflush(out);
    }
}

static int parse_u64(const char *text, uint64_t *value)
{
    char *end;
    *value = strtoull(text, &end, 0);
    return *text != '\0' && *end == '\0';
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc, char **argv)
{
    (void)info;
    const char *path = NULL;
    int has_begin = 0;
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (strncmp(a, "out=", 4) == 0) {
            path = a + 4;
        } else if (strncmp(a, "begin=", 6) == 0 && parse_u64(a + 6, &begin_addr)) {
            has_begin = 1;
        } else if (strncmp(a, "split=", 6) == 0 && parse_u64(a + 6, &split_addr)) {
            has_split = 1;
        } else if (strncmp(a, "end=", 4) == 0 && n_ends < MAX_ENDS && parse_u64(a + 4, &end_addrs[n_ends])) {
            n_ends++;
        } else {
            fprintf(stderr, "mtk stream plugin: bad argument %s\n", a);
            return -1;
        }
    }
    if (path == NULL || !has_begin || n_ends == 0) {
        fprintf(stderr, "mtk stream plugin: needs out=PATH, begin=ADDR and end=ADDR\n");
        return -1;
    }
    out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "mtk stream plugin: cannot write %s\n", path);
        return -1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 20);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
