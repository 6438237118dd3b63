from strm.cli.main import main

main()
