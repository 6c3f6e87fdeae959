build/obj/gdoi/names.o: gdoi/names.c gdoi/numbers.h
gdoi/numbers.h:
