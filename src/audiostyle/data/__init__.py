"""Data sets: rendered corpus pairs, prepared recordings, and the folder layout that holds them.

Submodules (imported on use; importing this package loads nothing heavy):

- :mod:`~audiostyle.data.instruments`: General MIDI names, programs and playable ranges.
- :mod:`~audiostyle.data.corpus`: note excerpts from the music21 corpus.
- :mod:`~audiostyle.data.render`: ``render_corpus``, soundfont rendering of paired clips.
- :mod:`~audiostyle.data.prepare`: ``prepare_recordings``, clips cut from real recordings.
- :mod:`~audiostyle.data.layout`: ``Corpus``, reading a data set folder.
- :mod:`~audiostyle.data.pianoroll`: ``token_roll``, a clip's notes at the content token rate.
- :mod:`~audiostyle.data.subharmonics`: ``SubharmonicCut``, a gain lowering the partials an octave
  under a clip's high notes (training option ``train.subharmonic_cut_db``).
"""

TRAIN_FONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
"""Default soundfont for train and val renders (Debian package fluid-soundfont-gm)."""
TEST_FONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"
"""Default soundfont for test renders (Debian package timgm6mb-soundfont): unseen timbres."""
FONT_PACKAGES = {"FluidR3_GM.sf2": "fluid-soundfont-gm", "TimGM6mb.sf2": "timgm6mb-soundfont",
                 "OPL-3_FM_128M.sf2": "opl3-soundfont"}
"""Debian packages of the soundfonts audiostyle uses, by file name."""
FONT_INSTALL_HINT = "install it with `apt-get install fluid-soundfont-gm timgm6mb-soundfont` or `make setup`"
