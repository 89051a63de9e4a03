"""The languages gbv-risk speaks: the program's messages and every data file's text. Its own
module so that the message catalogue and the text model both build on it without importing
each other."""

LANGUAGES = ("en", "ru", "uz", "kaa")
REQUIRED_LANGUAGES = ("en", "ru")
