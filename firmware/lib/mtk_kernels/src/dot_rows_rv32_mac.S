/*
 * mtk_rv32_mac_2x8 (declared in dot_rows_rv32.c): two pixels x eight filters of the packed layout
 * (mtk_kernels.h: four pairs, pair_stride bytes apart; in a pair filter 0's block of 4 at +0 and filter 1's
 * at +4) over `blocks` blocks of 4 values. Per value: the two pixels' bytes once, each filter's byte once,
 * 16 MUL + ADD pairs. RV32IM only; assembles to nothing elsewhere (the condition of MTK_RISCV).
 *
 *   a0 acc (int32[16]: pixel 0's eight sums, then pixel 1's), a1 w, a2 pair_stride, a3 x0, a4 x1, a5 blocks
 */
#if defined(__riscv) && __riscv_xlen == 32 && defined(__riscv_mul) && !defined(MTK_PORTABLE)

    .text
    .align 2
    .globl mtk_rv32_mac_2x8
    .type mtk_rv32_mac_2x8, @function
mtk_rv32_mac_2x8:
    addi sp, sp, -64
    sw ra, 60(sp)
    sw s0, 56(sp)
    sw s1, 52(sp)
    sw s2, 48(sp)
    sw s3, 44(sp)
    sw s4, 40(sp)
    sw s5, 36(sp)
    sw s6, 32(sp)
    sw s7, 28(sp)
    sw s8, 24(sp)
    sw s9, 20(sp)
    sw s10, 16(sp)
    sw s11, 12(sp)
    sw a0, 8(sp)
    /* accumulators: pixel 0 s0-s7, pixel 1 s8-s11 t3-t6 */
    lw s0, 0(a0)
    lw s1, 4(a0)
    lw s2, 8(a0)
    lw s3, 12(a0)
    lw s4, 16(a0)
    lw s5, 20(a0)
    lw s6, 24(a0)
    lw s7, 28(a0)
    lw s8, 32(a0)
    lw s9, 36(a0)
    lw s10, 40(a0)
    lw s11, 44(a0)
    lw t3, 48(a0)
    lw t4, 52(a0)
    lw t5, 56(a0)
    lw t6, 60(a0)
    /* pairs at a1, a6, a7, a0; end of x0 in a5; temporaries t0 (pixel 0), t1 (pixel 1), t2 (weight), ra */
    add a6, a1, a2
    add a7, a6, a2
    add a0, a7, a2
    slli a5, a5, 2
    add a5, a3, a5

.macro FILTER w, off, s_p0, s_p1
    lb t2, \off(\w)
    mul ra, t2, t0
    add \s_p0, \s_p0, ra
    mul ra, t2, t1
    add \s_p1, \s_p1, ra
.endm

.macro VALUE j
    lb t0, \j(a3)
    lb t1, \j(a4)
    FILTER a1, \j, s0, s8
    FILTER a1, \j+4, s1, s9
    FILTER a6, \j, s2, s10
    FILTER a6, \j+4, s3, s11
    FILTER a7, \j, s4, t3
    FILTER a7, \j+4, s5, t4
    FILTER a0, \j, s6, t5
    FILTER a0, \j+4, s7, t6
.endm

1:
    VALUE 0
    VALUE 1
    VALUE 2
    VALUE 3
    addi a3, a3, 4
    addi a4, a4, 4
    addi a1, a1, 8
    addi a6, a6, 8
    addi a7, a7, 8
    addi a0, a0, 8
    bne a3, a5, 1b

    lw a0, 8(sp)
    sw s0, 0(a0)
    sw s1, 4(a0)
    sw s2, 8(a0)
    sw s3, 12(a0)
    sw s4, 16(a0)
    sw s5, 20(a0)
    sw s6, 24(a0)
    sw s7, 28(a0)
    sw s8, 32(a0)
    sw s9, 36(a0)
    sw s10, 40(a0)
    sw s11, 44(a0)
    sw t3, 48(a0)
    sw t4, 52(a0)
    sw t5, 56(a0)
    sw t6, 60(a0)
    lw ra, 60(sp)
    lw s0, 56(sp)
    lw s1, 52(sp)
    lw s2, 48(sp)
    lw s3, 44(sp)
    lw s4, 40(sp)
    lw s5, 36(sp)
    lw s6, 32(sp)
    lw s7, 28(sp)
    lw s8, 24(sp)
    lw s9, 20(sp)
    lw s10, 16(sp)
    lw s11, 12(sp)
    addi sp, sp, 64
    ret
    .size mtk_rv32_mac_2x8, .-mtk_rv32_mac_2x8

#endif
