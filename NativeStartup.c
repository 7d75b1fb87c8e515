// Runs before the .NET runtime starts (an ELF constructor): asks the kernel to fill, in one call,
// the executable's writable zero-filled data (.bss and the runtime's .hydrated section, into
// which the runtime writes its type and method data at every start). Otherwise the runtime's
// first write to each of those pages is a page fault of its own, hundreds of them in a row;
// populated together they cost one system call. If the kernel lacks MADV_POPULATE_WRITE
// (before Linux 5.14), the call fails and the pages fault in one by one as before.
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int populate_zero_filled_data(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_W) || segment->p_memsz <= segment->p_filesz)
            continue;
        // The file's last page is mapped from the file; the zero-filled pages start after it.
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr + segment->p_filesz + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_memsz + page - 1) & ~(page - 1);
        if (end > start)
            madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    }
    return 1; // the first object is the executable itself: stop there
}

__attribute__((constructor)) static void native_startup(void)
{
    dl_iterate_phdr(populate_zero_filled_data, NULL);
}
