/*
 * mtk_dot_rows_s8's three-pixel DSP routine (dot_rows.c calls it; Arm Thumb-2 with the DSP extension):
 * every filter pair of a packed layer against groups of three pixels sign-extended into scratch, the folded
 * output stage, and the clamps, in one call. Written as assembly because the loop needs all fourteen
 * registers: six accumulators (2 filters x 3 pixels), four expanded weight words, two pixel words, two
 * pointers.
 *
 * Per block of 4 values (24 multiply-accumulates): 6 single loads in pipelined runs, 4 SXTB16, 12 SMLAD;
 * 27 Cortex-M4 cycles (TRM: a load after a load whose result it does not address with costs 1). A pair's
 * first block starts its accumulators from the biases (SMLAD's accumulate operand). Layers of 2 to 4 and 6
 * blocks have their pair loops written out, two pairs a pass (one end test and one table store for both:
 * 3 cycles a pair less, of ~106 at 8 values); longer ones run eight blocks a pass (its test costs 5
 * cycles), the pass ending when the pixel pointer reaches its end (kept on the stack: no register is left for it). A
 * multiple of 8 blocks (every pointwise layer from 32 channels in V1) has its own loop: the first block and
 * seven more written out, then whole passes, with no jump into a pass; any other count enters its first
 * pass part-way through a PC load of the block's address (5 cycles a pair, where TBH and its index cost 7). The pair loop is written out once per clamp
 * form (none, lower, both), so a pass tests nothing but its ends.
 *
 * One call serves many groups, so its set-up (the job copied into the frame) is paid once: either the caller
 * has expanded them one after another into x, or (rows != NULL, rows of whole blocks) the routine expands
 * each group's three rows into x itself before its pairs.
 *
 * void mtk_dot3_folded_dsp(const mtk_dot3_job *job), the job as dot_rows.c lays it out:
 *   +0 packed weights, +4 expanded pixels (per block: row0 even/odd, row1 even/odd, row2 even/odd words,
 *   each value doubled: mtk_dot3_pixel_word),
 *   +8 channel table (blocks of 2), +12 pixel 0's output, +16 bytes between the pixels' outputs,
 *   +20 blocks per filter row, +24 filter pairs, +28 clamp (0 none, 1 lower, 2 both), +32 lower bound in
 *   all four bytes, +36 upper bound in all four bytes, +40 rows (NULL: x holds the groups), +44 bytes
 *   between rows, +48 groups (>= 1; group g's outputs 3 * g * stride on), +52 the last block holds one value
 *   (rows of 4n + 1), +56 the pixels are plain SXTB16 halves, not doubled (only with 7 blocks), +60 the
 *   output stage needs its sign term (the lower bound is below the zero point; FOLD).
 */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__) && !defined(MTK_PORTABLE)

    .syntax unified
    .thumb
    .text

/* Stack frame. */
#define X_END 0
#define X_BASE 4
#define TABLE 8
#define OUT 12
#define STRIDE 16
#define TABLE_END 20
#define ENTRY 24
#define DISPATCH 28
#define LO4 32
#define HI4 36
#define ROWS 40
#define ROW_STRIDE 44
#define GROUPS 48
#define W_BASE 52
#define TABLE_BASE 56
#define OUT_STEP 60
#define BLOCKS 64
#define X_STEP 68
#define FRAME 72

/* The next block (four values) of each of the three rows at r3, r4, r5 into r10, r11, lr. */
    .macro ROW_WORDS
    ldr r10, [r3], #4
    ldr r11, [r4], #4
    ldr lr, [r5], #4
    .endm

/* Those words sign-extended and doubled into x's six words of the block, r0, r1, r2, r6, r8, r9 (SXTB16
 * order; mtk_dot3_pixel_word). */
    .macro ROW_HALVES
    sxtb16 r0, r10
    sxtb16 r1, r10, ror #8
    sxtb16 r2, r11
    sxtb16 r6, r11, ror #8
    sxtb16 r8, lr
    sxtb16 r9, lr, ror #8
    sadd16 r0, r0, r0
    sadd16 r1, r1, r1
    sadd16 r2, r2, r2
    sadd16 r6, r6, r6
    sadd16 r8, r8, r8
    sadd16 r9, r9, r9
    .endm

/* A job field (at byte \at of the job in r0) into the frame slot \slot, through r3. */
    .macro JOB_TO_FRAME at, slot
    ldr r3, [r0, #\at]
    str r3, [sp, #\slot]
    .endm

/* The next pixel's two words of the block into r2/r3. */
    .macro PIXEL_WORDS
    ldr r2, [r1], #4
    ldr r3, [r1], #4
    .endm

/* One pixel's words (r2 even, r3 odd halves) into its accumulators \f0 (filter 0) and \f1 (filter 1). */
    .macro PIXEL_MACS f0, f1
    smlad \f0, r10, r2, \f0
    smlad \f0, r12, r3, \f0
    smlad \f1, r11, r2, \f1
    smlad \f1, lr, r3, \f1
    .endm

/* The pair's next words into r10/r11 (odd halves r12/lr) and pixel 0's words into r2/r3 (their loads before
 * the expansion: they pipeline with the two above). */
    .macro BLOCK_LOADS
    ldr r10, [r0], #4
    ldr r11, [r0], #4
    PIXEL_WORDS
    sxtb16 r12, r10, ror #8
    sxtb16 r10, r10
    sxtb16 lr, r11, ror #8
    sxtb16 r11, r11
    .endm

/* One block: filters' words into r10/r11 (odd halves r12/lr), pixels' words through r2/r3; accumulators
 * \p0a/\p0b (pixel 0, filters 0/1), \p1a/\p1b (pixel 1), \p2a/\p2b (pixel 2). */
    .macro BLOCK p0a=r4, p0b=r5, p1a=r6, p1b=r7, p2a=r8, p2b=r9
    BLOCK_LOADS
    PIXEL_MACS \p0a, \p0b
    PIXEL_WORDS
    PIXEL_MACS \p1a, \p1b
    PIXEL_WORDS
    PIXEL_MACS \p2a, \p2b
    .endm

/* The folded output stage of accumulator \a (multiplier r10, rounding r11, shift r12), saturated to int8:
 * SMMLAR + 2 ALU + SSAT, as mtk_fixedpoint.h derives it. The accumulator is already 2 * acc (the pixels
 * and the biases come doubled), SMMLAR's operand there: exact, as |acc| < 2^30 on every folded layer,
 * and its sign is acc's. Without \sign the sign term is left out: SMMLAR + ALU + SSAT, exact where the
 * lower bound is at or above the zero point (ReLU, or a zero point of -128): for acc < 0 the product x is
 * <= 0, so (x + 2^(r-1) + zp * 2^r) >> r <= zp with or without the -1, and the bound takes both. */
    .macro FOLD a, plain=0, sign=1
    .if \sign
    .if \plain                      /* plain SXTB16 pixels (an RGB window): the accumulator doubled here */
    lsl r2, \a, #1
    smmlar r2, r2, r10, r11
    .else
    smmlar r2, \a, r10, r11
    .endif
    add \a, r2, \a, asr #31
    .else
    smmlar \a, \a, r10, r11
    .endif
    asr \a, \a, r12
    ssat \a, #8, \a
    .endm

/* The clamps of form \clamp (0 none, 1 the lower bound, 2 both) on three pixels' packed outputs \a, \b, \c,
 * through r10 and r2. */
    .macro CLAMPS clamp, a, b, c
    .if \clamp >= 1
    ldr r10, [sp, #LO4]             /* bytewise max(v, lo): SSUB8 sets GE where v >= lo, SEL keeps v */
    ssub8 r2, \a, r10
    sel \a, \a, r10
    ssub8 r2, \b, r10
    sel \b, \b, r10
    ssub8 r2, \c, r10
    sel \c, \c, r10
    .endif
    .if \clamp == 2
    ldr r10, [sp, #HI4]             /* bytewise min(v, hi): GE where v >= hi, SEL takes hi there */
    ssub8 r2, \a, r10
    sel \a, r10, \a
    ssub8 r2, \b, r10
    sel \b, r10, \b
    ssub8 r2, \c, r10
    sel \c, r10, \c
    .endif
    .endm

/* A last block holding one value (a row of 4n + 1, the one-channel 3x3 window's 9): its other three weights
 * are zero, so only the even words count, one SMLAD per pixel and filter; the odd halves' registers take
 * pixel 2's word, so all five loads run pipelined (the pixel pointer is not needed after them). */
    .macro HALF_BLOCK p0a, p0b, p1a, p1b, p2a, p2b
    ldr r10, [r0], #4
    ldr r11, [r0], #4
    ldr r2, [r1]
    ldr r3, [r1, #8]
    ldr r12, [r1, #16]
    sxtb16 r10, r10
    sxtb16 r11, r11
    smlad \p0a, r10, r2, \p0a
    smlad \p0b, r11, r2, \p0b
    smlad \p1a, r10, r3, \p1a
    smlad \p1b, r11, r3, \p1b
    smlad \p2a, r10, r12, \p2a
    smlad \p2b, r11, r12, \p2b
    .endm

/* The first block of a pair (its table block \off bytes after r1's, r1 stored as TABLE with \store): the
 * accumulators start from the biases through SMLAD's accumulate operand (no copies), pixel 0 into r6/r7,
 * pixel 1 into r8/r9, pixel 2 into r4/r5 last, over the biases' own registers. */
    .macro FIRST_BLOCK plain=0, off=0, store=1
    .if \store
    str r1, [sp, #TABLE]
    .endif
    ldr r4, [r1, #\off]
    ldr r5, [r1, #\off + 4]
    ldr r1, [sp, #X_BASE]
    BLOCK_LOADS
    .if !\plain
    add r4, r4, r4                  /* the biases doubled, as the pixels are */
    add r5, r5, r5
    .endif
    smlad r6, r10, r2, r4
    smlad r6, r12, r3, r6
    smlad r7, r11, r2, r5
    smlad r7, lr, r3, r7
    PIXEL_WORDS
    smlad r8, r10, r2, r4
    smlad r8, r12, r3, r8
    smlad r9, r11, r2, r5
    smlad r9, lr, r3, r9
    PIXEL_WORDS
    PIXEL_MACS r4, r5
    .endm

/* The blocks of a written-out pair after its first: \nb - 1, the last a HALF_BLOCK with \half. */
    .macro SHORT_BLOCKS nb, half
    .rept \nb - 1 - \half
    BLOCK r6, r7, r8, r9, r4, r5
    .endr
    .if \half
    HALF_BLOCK r6, r7, r8, r9, r4, r5
    .endif
    .endm

/* One filter of a pair: its multiplier, rounding and shift (the table words at \off, \off + 8, \off + 16;
 * the pair's other filter's are 4 bytes on) into r10-r12, FOLD's operands, then its three pixels'
 * accumulators \a, \b, \c folded. */
    .macro STAGE_HALF off, a, b, c, plain, sign
    ldr r10, [r1, #\off]
    ldr r11, [r1, #\off + 8]
    ldr r12, [r1, #\off + 16]
    FOLD \a, \plain, \sign
    FOLD \b, \plain, \sign
    FOLD \c, \plain, \sign
    .endm

/* A pair's output stage (its table block \off bytes after TABLE's, back in r1): its three pixels'
 * halfwords stored, OUT moved on past them; with \end the end test's bound loaded into r11 before the
 * stores (a register-offset store right after a load costs 1, so the load costs 1 net). The pointers and
 * the stride come in one pipelined run of loads with the first parameters. */
    .macro STAGE clamp, plain, off=0, end=1, sign=1
    ldr r1, [sp, #TABLE]
    ldr lr, [sp, #OUT]
    ldr r3, [sp, #STRIDE]
    STAGE_HALF \off + 8, r6, r8, r4, \plain, \sign
    STAGE_HALF \off + 12, r7, r9, r5, \plain, \sign
    bfi r6, r7, #8, #8              /* per pixel its two channels, as one halfword */
    bfi r8, r9, #8, #8
    bfi r4, r5, #8, #8
    CLAMPS \clamp, r6, r8, r4
    .if \end
    ldr r11, [sp, #TABLE_END]
    .endif
    strh r8, [lr, r3]
    strh r4, [lr, r3, lsl #1]
    strh r6, [lr], #2               /* the next pair's outputs follow */
    str lr, [sp, #OUT]
    .endm

/* Every filter pair, then to .Ldone (labels .Lpair\nb\()c\clamp\()h\half\()s\sign): \clamp 0 none, 1 the
 * lower bound, 2 both; \sign 0 the output stage without its sign term (FOLD); \nb 2 to 6 the layer's
 * exact block count, its blocks written out (no entry jump, no pass test: at 5 to 24 values, V1's first
 * pointwise and V2's expand layers, a one-channel 3x3 window, the work outside the blocks is most of a
 * pair's cycles) and two pairs a pass (an odd count enters its first pass at .Lodd, its second half), the
 * last one a HALF_BLOCK with \half, or 7 with \plain (an RGB 3x3 window's 27 values, their pixels not
 * doubled: its per-pixel doubling would cost more than the shift per output it spares); 8 a multiple of 8
 * blocks, the first eight written out, then passes of eight; or 0 any count, the blocks after the first
 * eight a pass, entered part-way (ENTRY: the block's Thumb address). Enters with the pair's table block in
 * r1. */
    .macro PAIRS nb, clamp, half=0, plain=0, sign=1
.Lpair\nb\()c\clamp\()h\half\()s\sign:
    FIRST_BLOCK \plain
    .if \nb != 0 && \nb != 8          /* written out: two pairs a pass, the second's table 32 bytes on */
    SHORT_BLOCKS \nb, \half
    STAGE \clamp, \plain, 0, 0, \sign
.Lsecond\nb\()c\clamp\()h\half\()s\sign:
    FIRST_BLOCK \plain, 32, 0
    SHORT_BLOCKS \nb, \half
    STAGE \clamp, \plain, 32, 1, \sign
    adds r1, r1, #64
    cmp r1, r11
    bne .Lpair\nb\()c\clamp\()h\half\()s\sign
    b .Ldone
.Lodd\nb\()c\clamp\()h\half\()s\sign:             /* an odd pair count: the first pass runs its second half only */
    sub r1, r1, #32
    str r1, [sp, #TABLE]
    b .Lsecond\nb\()c\clamp\()h\half\()s\sign
    .elseif \nb == 0
    ldr pc, [sp, #ENTRY]            /* the pass's block the rest of the row starts at (set-up's .Lentries) */
    .balign 4
.Lblock0\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock1\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock2\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock3\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock4\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock5\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock6\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
.Lblock7\clamp\()s\sign:
    BLOCK r6, r7, r8, r9, r4, r5
    ldr r2, [sp, #X_END]
    cmp r1, r2
    bne .Lblock0\clamp\()s\sign
.Lstage\clamp\()s\sign:
    .elseif \nb == 8
    .rept 7
    BLOCK r6, r7, r8, r9, r4, r5
    .endr
    ldr r2, [sp, #X_END]
    cmp r1, r2
    beq .Lstage8\clamp\()s\sign
.Lpass8\clamp\()s\sign:
    .rept 8
    BLOCK r6, r7, r8, r9, r4, r5
    .endr
    ldr r2, [sp, #X_END]
    cmp r1, r2
    bne .Lpass8\clamp\()s\sign
.Lstage8\clamp\()s\sign:
    .endif
    .if \nb == 0 || \nb == 8
    STAGE \clamp, \plain, 0, 1, \sign
    adds r1, r1, #32
    cmp r1, r11
    bne .Lpair\nb\()c\clamp\()h\half\()s\sign
    b .Ldone
    .endif
    .endm

/* The written-out loops' entries \kind (pair: the pass's start, odd: its second half), as the set-up numbers
 * them: 2 to 6 blocks per clamp form 0 and 1, 3 blocks the last of one value, 7 plain blocks per form.
 * Without the sign term (\sign 0) every form but 5 blocks (no model has pointwise layers of 17 to 20
 * channels, and each written-out loop is 0.7 to 1.5 KB); with it (a layer without an activation whose zero
 * point is above -128) only clamp form 0 of 4 blocks (V2's first projection, 16 -> 8 channels at 48x48);
 * the rest take the general loops. */
    .macro WRITTEN_OUT kind, sign
    .if \sign
    .word .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1, .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1
    .word .L\kind\()4c0h0s1 + 1, .Lpair0c1h0s1 + 1, .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1
    .word .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1, .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1
    .else
    .word .L\kind\()2c0h0s0 + 1, .L\kind\()2c1h0s0 + 1, .L\kind\()3c0h0s0 + 1, .L\kind\()3c1h0s0 + 1
    .word .L\kind\()4c0h0s0 + 1, .L\kind\()4c1h0s0 + 1, .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1
    .word .L\kind\()6c0h0s0 + 1, .L\kind\()6c1h0s0 + 1, .L\kind\()3c0h1s0 + 1, .L\kind\()3c1h1s0 + 1
    .endif
    .word .L\kind\()7c0h0s1 + 1, .L\kind\()7c1h0s1 + 1, .L\kind\()7c2h0s1 + 1
    .endm

/* The general pair loop's entry points of clamp form \clamp (\sign: with the sign term): its pass's eight
 * blocks, then the stage. */
    .macro ENTRIES clamp, sign
    .word .Lblock0\clamp\()s\sign + 1, .Lblock1\clamp\()s\sign + 1, .Lblock2\clamp\()s\sign + 1
    .word .Lblock3\clamp\()s\sign + 1, .Lblock4\clamp\()s\sign + 1, .Lblock5\clamp\()s\sign + 1
    .word .Lblock6\clamp\()s\sign + 1, .Lblock7\clamp\()s\sign + 1, .Lstage\clamp\()s\sign + 1
    .endm

    .global mtk_dot3_folded_dsp
    .type mtk_dot3_folded_dsp, %function
    .thumb_func
mtk_dot3_folded_dsp:
    push {r4-r11, lr}
    sub sp, sp, #FRAME
    ldr r1, [r0, #4]
    ldr r2, [r0, #20]
    str r1, [sp, #X_BASE]
    str r2, [sp, #BLOCKS]
    add r3, r2, r2, lsl #1
    lsl r3, r3, #3                  /* 24 * blocks: one group's expanded pixels */
    add r4, r1, r3
    str r4, [sp, #X_END]
    ldr r4, [r0, #40]
    str r4, [sp, #ROWS]
    cmp r4, #0                      /* x moves on a group a time unless the rows are expanded into it */
    it ne
    movne r3, #0
    str r3, [sp, #X_STEP]
    JOB_TO_FRAME 0, W_BASE
    JOB_TO_FRAME 8, TABLE_BASE
    JOB_TO_FRAME 12, OUT
    JOB_TO_FRAME 16, STRIDE
    ldr r3, [r0, #24]               /* pairs: the table ends 32 bytes a pair on */
    ldr r1, [r0, #8]
    add r1, r1, r3, lsl #5
    str r1, [sp, #TABLE_END]
    ldr r1, [r0, #16]               /* the next group's outputs: 3 strides on from the first pair's, */
    add r1, r1, r1, lsl #1          /* 3 strides less 2 bytes a pair from where its pairs end */
    sub r1, r1, r3, lsl #1
    str r1, [sp, #OUT_STEP]
    JOB_TO_FRAME 32, LO4
    JOB_TO_FRAME 36, HI4
    JOB_TO_FRAME 44, ROW_STRIDE
    JOB_TO_FRAME 48, GROUPS
    ldr r3, [r0, #28]               /* the clamp form */
    mov r5, r3                      /* the general loops' form: 0 to 2 the clamp's, with the sign term; */
    ldr r1, [r0, #60]               /* 3 and 4 clamp 0 and 1 without it */
    cmp r3, #2
    beq 8f
    cbnz r1, 8f
    adds r5, r5, #3
8:
    rsb r12, r2, #1                 /* the general loops' first pass: block (1 - blocks) mod 8 after the */
    and r12, r12, #7                /* first one, or the stage for a row of one block */
    cmp r2, #1
    it eq
    moveq r12, #8
    add r1, r5, r5, lsl #3
    add r12, r12, r1
    adr r1, .Lentries
    ldr r12, [r1, r12, lsl #2]
    str r12, [sp, #ENTRY]
    ldr r1, [r0, #56]               /* plain rows (7 blocks): the loops 12 to 14 */
    cbnz r1, 4f
    cmp r3, #2                      /* one copy of the pair loop per form: no per-pass test */
    beq 1f
    subs r1, r2, #2
    cmp r1, #4
    bls 3f
    tst r2, #7
    bne 1f
    adds r3, r5, #65                /* clamp 0 or 1, a multiple of 8 blocks: the loops 65 to 69 */
    b 2f
3:
    add r3, r3, r1, lsl #1          /* 2 to 6 blocks, clamp 0 or 1: the written-out loops 0 to 9 */
    cmp r1, #1
    bne 5f
    ldr r1, [r0, #52]               /* 3 blocks, the last of one value: the loops 10 and 11 */
    cbz r1, 5f
    adds r3, r3, #8
    b 5f
4:
    adds r3, r3, #12
5:
    ldr r1, [r0, #60]               /* the output stage's sign term kept: the loops 30 on */
    cbz r1, 6f
    adds r3, r3, #30
6:
    ldr r1, [r0, #24]               /* an odd pair count: the written-out loop's odd entry, 15 on */
    tst r1, #1
    it ne
    addne r3, r3, #15
    b 2f
1:
    adds r3, r5, #60                /* else the general loops 60 to 64 */
2:
    adr r1, .Ldispatch
    ldr r3, [r1, r3, lsl #2]
    str r3, [sp, #DISPATCH]

    ldr r3, [sp, #ROWS]
    cmp r3, #0
    beq .Lexpanded
.Lrows:
    /* Three rows of whole blocks at r3 (row_stride apart) sign-extended and doubled into x: per block 3
     * loads, 6 SXTB16, 6 SADD16, one STM, in the order the pair loops read (24.5 cycles a block, two a
     * pass). The doubling costs 6 cycles a block and three rows once; it spares each filter pair an LSL
     * per output (6 a pair, 2 of which go to doubling the biases). */
    ldr r2, [sp, #ROW_STRIDE]
    add r4, r3, r2
    add r5, r4, r2
    add r6, r5, r2
    str r6, [sp, #ROWS]             /* the next group's first row */
    ldr r7, [sp, #X_BASE]
    ldr r12, [sp, #BLOCKS]
    lsrs r12, r12, #1               /* two blocks a pass (the next one's loads before this one's STM); */
    bcc 3f                          /* an odd count does one first */
    ROW_WORDS
    ROW_HALVES
    stmia r7!, {r0, r1, r2, r6, r8, r9}
    beq .Lexpanded                  /* the flags still LSRS's: no pair of blocks left */
3:
    ROW_WORDS
    ROW_HALVES
    ROW_WORDS
    stmia r7!, {r0, r1, r2, r6, r8, r9}
    ROW_HALVES
    stmia r7!, {r0, r1, r2, r6, r8, r9}
    subs r12, r12, #1
    bne 3b
.Lexpanded:
    ldr r1, [sp, #TABLE_BASE]       /* r1: the first pair's table block (its first block stores it) */
    ldr r0, [sp, #W_BASE]           /* r0: the next filter pair's weights from here on */
    ldr pc, [sp, #DISPATCH]
    .balign 4
.Ldispatch:                         /* the pair loops (Thumb addresses), as the set-up numbers them */
    WRITTEN_OUT pair, 0
    WRITTEN_OUT odd, 0
    WRITTEN_OUT pair, 1
    WRITTEN_OUT odd, 1
    .word .Lpair0c0h0s1 + 1, .Lpair0c1h0s1 + 1, .Lpair0c2h0s1 + 1, .Lpair0c0h0s0 + 1, .Lpair0c1h0s0 + 1
    .word .Lpair8c0h0s1 + 1, .Lpair8c1h0s1 + 1, .Lpair8c1h0s1 + 1, .Lpair8c0h0s0 + 1, .Lpair8c1h0s0 + 1
.Lentries:                          /* the general loops' entries (Thumb addresses), 9 a form */
    ENTRIES 0, 1
    ENTRIES 1, 1
    ENTRIES 2, 1
    ENTRIES 0, 0
    ENTRIES 1, 0
    PAIRS 0, 0
    PAIRS 0, 1
    PAIRS 0, 2
    PAIRS 0, 0, 0, 0, 0
    PAIRS 0, 1, 0, 0, 0
    PAIRS 2, 0, 0, 0, 0
    PAIRS 2, 1, 0, 0, 0
    PAIRS 3, 0, 0, 0, 0
    PAIRS 3, 1, 0, 0, 0
    PAIRS 4, 0, 0, 0, 0
    PAIRS 4, 1, 0, 0, 0
    PAIRS 6, 0, 0, 0, 0
    PAIRS 6, 1, 0, 0, 0
    PAIRS 3, 0, 1, 0, 0
    PAIRS 3, 1, 1, 0, 0
    PAIRS 4, 0
    PAIRS 8, 0
    PAIRS 8, 1
    PAIRS 8, 0, 0, 0, 0
    PAIRS 8, 1, 0, 0, 0
    PAIRS 7, 0, 0, 1
    PAIRS 7, 1, 0, 1
    PAIRS 7, 2, 0, 1
.Ldone:                             /* the group's pairs are done: the next group, if any */
    ldr r3, [sp, #GROUPS]
    ldr r1, [sp, #OUT]
    ldr r2, [sp, #OUT_STEP]
    subs r3, r3, #1
    beq .Lreturn
    str r3, [sp, #GROUPS]
    add r1, r1, r2
    str r1, [sp, #OUT]
    ldr r3, [sp, #ROWS]
    cmp r3, #0
    bne .Lrows                      /* rows: x stays where it is */
    ldr r1, [sp, #X_BASE]
    ldr r2, [sp, #X_STEP]
    ldr r3, [sp, #X_END]
    add r1, r1, r2
    add r3, r3, r2
    str r1, [sp, #X_BASE]
    str r3, [sp, #X_END]
    b .Lexpanded
.Lreturn:
    add sp, sp, #FRAME
    pop {r4-r11, pc}
    .size mtk_dot3_folded_dsp, . - mtk_dot3_folded_dsp

#endif
