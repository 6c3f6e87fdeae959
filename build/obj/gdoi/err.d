build/obj/gdoi/err.o: gdoi/err.c gdoi/err.h
gdoi/err.h:
