// timing.h on real boards: the CPU cycle counter (ESP32 CCOUNT, Cortex-M DWT CYCCNT), 32 bits extended
// to 64 on each read (an inference is far shorter than one 2^32-cycle wrap at these clocks).
#include <Arduino.h>

#include "../../timing.h"

#if defined(ESP_PLATFORM)
static inline uint32_t cycles(void)
{
    return ESP.getCycleCount();
}
static void enable_counter(void)
{
}
#define MTK_TIMER_NAME "ESP32 CCOUNT (CPU cycles)"
#elif defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_8M_MAIN__)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)
static inline uint32_t cycles(void)
{
    return DWT_CYCCNT;
}
static void enable_counter(void)
{
    DEMCR |= 1u << 24;     // TRCENA: power the DWT
    DWT_LAR = 0xC5ACCE55u; // unlock (needed on Cortex-M7, ignored elsewhere)
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u; // CYCCNTENA
}
#define MTK_TIMER_NAME "DWT CYCCNT (CPU cycles)"
#else
static inline uint32_t cycles(void)
{
    return micros();
}
static void enable_counter(void)
{
}
#define MTK_TIMER_NAME "micros() (microseconds)"
#endif

static uint32_t last;
static uint64_t high;

extern "C" void timing_init(void)
{
    enable_counter();
    last = cycles();
}

extern "C" uint64_t timing_now(void)
{
    uint32_t now = cycles();
    if (now < last)
        high += 1ull << 32;
    last = now;
    return high | now;
}

extern "C" const timing_info_t *timing_info(void)
{
#if defined(ESP_PLATFORM) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_8M_MAIN__)
    static const timing_info_t info = {MTK_TIMER_NAME, (uint32_t)F_CPU, 0, (uint32_t)F_CPU};
#else
    static const timing_info_t info = {MTK_TIMER_NAME, 1000000u, 0, (uint32_t)F_CPU};
#endif
    return &info;
}
