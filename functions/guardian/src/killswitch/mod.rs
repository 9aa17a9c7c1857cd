//! (filled in by the killswitch issue)
