/**
 * Top-level names of Python's standard library (Python 3's
 * `sys.stdlib_module_names`, without private `_` modules, plus the Python 2
 * names renamed in 3). An implicit relative import (Python 2) is never
 * assumed for these: `import json` beside a sibling `json.py` in Python 3
 * code means the standard library.
 */
export const PYTHON_STDLIB: ReadonlySet<string> = new Set(
  `
ConfigParser Cookie HTMLParser Queue SocketServer StringIO UserDict UserList UserString abc aifc
antigravity anydbm argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb binascii
bisect builtins bz2 cPickle cProfile cStringIO calendar cgi cgitb chunk cmath cmd code codecs codeop
collections colorsys commands compileall concurrent configparser contextlib contextvars cookielib
copy copyreg crypt csv ctypes curses dataclasses datetime dbhash dbm decimal difflib dis distutils
doctest email encodings ensurepip enum errno exceptions faulthandler fcntl filecmp fileinput fnmatch
fractions ftplib functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib
heapq hmac html htmlentitydefs http httplib idlelib imaplib imghdr imp importlib inspect io
ipaddress itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math
md5 mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc new nis nntplib nt ntpath
nturl2path numbers opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes
pkgutil platform plistlib popen2 poplib posix posixpath pprint profile pstats pty pwd py_compile
pyclbr pydoc pydoc_data pyexpat queue quopri random re readline repr reprlib resource rlcompleter
robotparser runpy sched secrets select selectors sets sha shelve shlex shutil signal site smtpd
smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse ssl stat
statistics string stringprep struct subprocess sunau symtable sys sysconfig syslog tabnanny tarfile
telnetlib tempfile termios textwrap this thread threading time timeit tkinter token tokenize tomllib
trace traceback tracemalloc tty turtle turtledemo types typing unicodedata unittest urllib urllib2
urlparse uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc
xmlrpclib zipapp zipfile zipimport zlib zoneinfo
`
    .trim()
    .split(/\s+/),
);
