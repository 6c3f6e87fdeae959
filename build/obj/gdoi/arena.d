build/obj/gdoi/arena.o: gdoi/arena.c gdoi/arena.h
gdoi/arena.h:
