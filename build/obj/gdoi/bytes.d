build/obj/gdoi/bytes.o: gdoi/bytes.c gdoi/bytes.h
gdoi/bytes.h:
