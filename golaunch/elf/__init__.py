"""Reading ELF files and resolving their libraries as glibc's ld.so would, without running them."""
